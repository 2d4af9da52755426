// Compiled by tests/test_generated_clients.py with `tsc --noEmit --strict` next to the
// schema.d.ts that openapi-typescript generates from the service's OpenAPI document.
// It uses the generated types the way a client would; a document change that breaks
// them fails the build.
import type { components, operations, paths } from "./schema";

type Schemas = components["schemas"];
type ReadSample = Schemas["ReadSample"];
type SamplePage =
  paths["/training/samples"]["get"]["responses"][200]["content"]["application/json"];
type MarkReadOut =
  paths["/training/samples/{sample_id}/mark-read"]["post"]["responses"][200]["content"]["application/json"];
type MarkReadBody = NonNullable<
  operations["mark_read"]["requestBody"]
>["content"]["application/json"];
type MarkReadQuery = NonNullable<operations["mark_read"]["parameters"]["query"]>;
type ClientHeaders = operations["get_samples"]["parameters"]["header"];
type ErrorCode = Schemas["ErrorBody"]["code"];

const item: ReadSample = {
  sample_id: "c_ch1_q_000025",
  chapter: 1,
  type: "mcq",
  difficulty: "easy",
  question: "What does sizeof(char) return?",
  answer: "1",
  language: "c",
  isRead: true,
  readAt: "2026-11-25T09:30:00.000Z",
};

function unread(page: SamplePage): ReadSample[] {
  return page.data.filter((sample) => !sample.isRead);
}

function points(answer: MarkReadOut): number {
  return answer.is_first_read ? answer.points_awarded : 0;
}

// The body and the query parameter are each optional; the header is required.
const bodyOnly: MarkReadBody = { time_spent: 45 };
const emptyBody: MarkReadBody = {};
const queryOnly: MarkReadQuery = { time_spent: 45 };
const headers: ClientHeaders = { "x-client-id": "web" };
const refused: ErrorCode = "not_authenticated";
const period: Schemas["LeaderboardOut"]["period"] = "month";
const zones: Schemas["TimezonesOut"]["timezones"] = ["Europe/Berlin"];

export const checked = [
  item,
  unread,
  points,
  bodyOnly,
  emptyBody,
  queryOnly,
  headers,
  refused,
  period,
  zones,
];
