"""Deterministic demo catalog of programming training samples (pre-migration shape).

The catalog covers C, C++ and Python. Every chapter of the curriculum has two small
tables of hand-written templates:

* code tasks, rendered as a ``program`` sample (the answer is the complete program) or as
  a ``debug`` sample (buggy code in the question; fixed code plus a one-line explanation
  in the answer). Both variants live in one template: ``@[buggy@|fixed@]`` marks the
  spots that differ. For C and C++ a line ``---`` separates top-level declarations from
  the body of ``main``; includes and the ``main`` wrapper are added when rendering;
* concepts, rendered as an ``mcq`` sample (options A-D, shuffled) or as a ``theory``
  sample (a prose answer of two to four sentences).

Templates use :class:`string.Template` placeholders (``$n``, ``$arr_c``, ``$word``, ...)
filled from parameters drawn with a private :class:`random.Random`, so a given seed always
yields the same catalog. Samples carry only the pre-migration fields ``sample_id``,
``chapter``, ``type``, ``difficulty``, ``question`` and ``answer``.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from string import Template

LANGUAGE_PLAN: dict[str, tuple[str, int, int]] = {
    "c": ("c", 10, 1800),
    "cpp": ("cpp", 12, 1800),
    "python": ("py", 8, 1400),
}
"""language -> (sample_id prefix, number of chapters, number of samples)."""

_LANGUAGE_NAMES = {"c": "C", "cpp": "C++", "python": "Python"}
_TYPES = ("program", "mcq", "theory", "debug")
_TYPE_WEIGHTS = (30, 25, 20, 25)
_DIFFICULTIES = ("easy", "medium", "hard")
_MAX_ATTEMPTS = 12  # re-draws per sample to avoid repeating a question
_EM_DASH = "\u2014"

_PROGRAM_STEMS = (
    "Write a {lang} program that {goal}.",
    "Write a complete {lang} program that {goal}.",
    "Implement a {lang} program that {goal}.",
)
_DEBUG_STEMS = (
    "Find and fix the bug in the following {lang} program. Intended behaviour: it {goal}.",
    "This {lang} program has a bug. Its purpose: it {goal}. Identify and fix the bug.",
    "Debug the following {lang} code. When it works correctly, it {goal}.",
)
_MCQ_STEMS = (
    "Which of the following best describes {topic}?",
    "Which option correctly describes {topic}?",
    "{lang}: which of the following correctly describes {topic}?",
)
_THEORY_STEMS = (
    "Explain {topic}.",
    "Describe {topic}.",
    "Briefly explain {topic}.",
    "In your own words, explain {topic}.",
    "In {lang}, explain {topic}.",
)

# --- parameter pools --------------------------------------------------------------------

_WORDS = (
    "programming",
    "pointer",
    "compiler",
    "keyboard",
    "variable",
    "level",
    "radar",
    "function",
    "racecar",
    "memory",
    "network",
    "rotor",
    "algorithm",
    "civic",
    "library",
    "madam",
    "terminal",
    "refer",
)
_SENTENCES = (
    "the cat and the hat",
    "to be or not to be",
    "red fish blue fish",
    "practice makes perfect",
    "code review finds bugs early",
    "one step at a time",
    "keep functions small and focused",
    "read the compiler warnings",
)
# (entity, text field, numeric field, sample text value, sample numeric value)
_ENTITIES = (
    ("student", "name", "marks", "Asha", "87.5"),
    ("book", "title", "price", "Dune", "9.99"),
    ("employee", "name", "salary", "Ravi", "52000.0"),
    ("product", "name", "price", "Laptop", "799.0"),
    ("movie", "title", "rating", "Inception", "8.8"),
    ("player", "name", "score", "Mia", "1450.0"),
    ("car", "model", "mileage", "Corolla", "15.2"),
    ("course", "title", "fee", "Algorithms", "120.0"),
)
_PEOPLE = ("Alice", "Bob", "Priya", "Chen", "Maria", "Omar", "Yuki", "Lars", "Fatima", "Diego")
_ANIMALS = (("Dog", "Woof"), ("Cat", "Meow"), ("Cow", "Moo"), ("Duck", "Quack"), ("Sheep", "Baa"))
_VEHICLES = ("Car", "Truck", "Bus", "Motorbike", "Van")
_WORD_PAIRS = (
    ("listen", "silent"),
    ("evil", "vile"),
    ("night", "thing"),
    ("dusty", "study"),
    ("below", "elbow"),
    ("heart", "earth"),
    ("state", "taste"),
    ("apple", "paper"),
    ("lemon", "melon"),
    ("stone", "notes"),
)
_FILES = ("data.txt", "scores.txt", "input.txt", "notes.txt", "records.txt", "log.txt")


# --- template types -------------------------------------------------------------------


@dataclass(frozen=True)
class _Task:
    """A code exercise, usable as a ``program`` or as a ``debug`` sample."""

    difficulty: str
    goal: str  # completes "Write a C program that ..."
    code: str  # template with @[buggy@|fixed@] markers (C/C++: top part, "---", main body)
    fix: str  # one-line explanation of the bug
    headers: str = ""  # extra headers for C/C++, space separated


@dataclass(frozen=True)
class _Concept:
    """A conceptual question, usable as an ``mcq`` or as a ``theory`` sample."""

    difficulty: str
    topic: str  # noun phrase: "what a dangling pointer is"
    correct: str
    wrong: tuple[str, str, str]
    explanation: str  # two to four sentences


@dataclass(frozen=True)
class _Chapter:
    """One chapter of a language's curriculum."""

    area: str
    tasks: list[_Task]
    concepts: list[_Concept]


# --- C ----------------------------------------------------------------------------------

_C: list[_Chapter] = [
    _Chapter(
        "basics",
        [
            _Task(
                "easy",
                "prints the sum, difference and product of $a and $b",
                r"""
int x = $a, y = $b;
printf("Sum: %d\n", x + y);
printf("Difference: %d\n", x - y);
printf("Product: %d\n", x @[+@|*@] y);""",
                "The product must use the `*` operator, not `+`.",
            ),
            _Task(
                "easy",
                "converts $temp degrees Celsius to Fahrenheit and prints it with two decimals",
                r"""
double celsius = $temp;
double fahrenheit = celsius * @[9 / 5@|9.0 / 5.0@] + 32;
printf("%.1f C = %.2f F\n", celsius, fahrenheit);""",
                "`9 / 5` is integer division and evaluates to 1; use `9.0 / 5.0`.",
            ),
            _Task(
                "medium",
                "reads $n integers from standard input and prints their average",
                r"""
int value, sum = 0;
for (int i = 0; i < $n; i++) {
    if (scanf("%d", @[value@|&value@]) != 1) {
        return 1;
    }
    sum += value;
}
printf("Average: %.2f\n", sum / (double)$n);""",
                "`scanf` needs the address of the variable, so pass `&value`, not `value`.",
            ),
            _Task(
                "medium",
                "computes the area and circumference of a circle with radius $radius",
                r"""
#define PI 3.14159265358979
---
double r = $radius;
printf("Area: %.2f\n", PI * r * r);
printf("Circumference: %.2f\n", @[PI * r@|2 * PI * r@]);""",
                "The circumference is 2 * PI * r; the factor 2 was missing.",
            ),
        ],
        [
            _Concept(
                "easy",
                "the value of `$a / $b` in C when both operands have type `int`",
                "$div_ab",
                ("$fdiv_ab", "$mod_ab", "It does not compile"),
                "When both operands are integers, C performs integer division and discards "
                "the fractional part, truncating toward zero. To get $fdiv_ab one operand "
                "must be converted to a floating type first, as in `(double)$a / $b`.",
            ),
            _Concept(
                "easy",
                "the purpose of the `return 0;` statement at the end of `main`",
                "It reports successful termination to the operating system",
                (
                    "It clears the console window",
                    "It frees every variable declared in `main`",
                    "It makes the program run again",
                ),
                "The value returned from `main` becomes the program's exit status. By "
                "convention 0 (or `EXIT_SUCCESS`) signals success and a non-zero value an "
                "error, which shells and build scripts can test.",
            ),
            _Concept(
                "medium",
                "the difference between a `const` variable and a `#define` constant",
                "`const` creates a typed object checked by the compiler; `#define` is plain "
                "text substitution by the preprocessor",
                (
                    "They are identical in every respect",
                    "`#define` constants are stored in read-only memory at run time",
                    "A `const` variable can be reassigned later in the program",
                ),
                "A `#define` is expanded by the preprocessor before compilation, so it has no "
                "type and no scope. A `const` variable has a type, obeys scope rules and is "
                "visible in the debugger, which makes mistakes easier to catch.",
            ),
        ],
    ),
    _Chapter(
        "control_flow",
        [
            _Task(
                "easy",
                "prints the multiplication table of $a from 1 to $n",
                r"""
int number = $a;
for (int i = 1; @[i < $n@|i <= $n@]; i++) {
    printf("%d x %d = %d\n", number, i, number * i);
}""",
                "The condition must be `i <= $n`, otherwise the last row is never printed.",
            ),
            _Task(
                "easy",
                "checks whether the year $year is a leap year",
                r"""
int year = $year;
if ((year % 4 == 0 && year % 100 != 0) @[&&@|||@] year % 400 == 0) {
    printf("%d is a leap year\n", year);
} else {
    printf("%d is not a leap year\n", year);
}""",
                "A year divisible by 400 is always a leap year, so the conditions are joined with `||`.",
            ),
            _Task(
                "medium",
                "prints the first $n Fibonacci numbers",
                r"""
long a = 0, b = 1;
for (int i = 0; i < $n; i++) {
    printf("%ld ", a);
    long next = a + b;
    a = b;
    @[b = a;@|b = next;@]
}
printf("\n");""",
                "`b` must take the value of `next`; assigning `a` repeats the same term.",
            ),
            _Task(
                "medium",
                "prints the sum of the digits of $num using a while loop",
                r"""
int number = $num;
int sum = 0;
while (number @[>=@|>@] 0) {
    sum += number % 10;
    number /= 10;
}
printf("Sum of digits: %d\n", sum);""",
                "With `>= 0` the loop never ends once `number` reaches 0; the test must be `> 0`.",
            ),
        ],
        [
            _Concept(
                "easy",
                "how many times the body of `for (int i = 0; i < $n; i++)` executes",
                "$n",
                ("$n_plus", "$n_minus", "It never terminates"),
                "The loop starts with `i` equal to 0 and stops as soon as `i < $n` becomes "
                "false. So `i` takes the values 0 to $n_minus, which is exactly $n iterations.",
            ),
            _Concept(
                "easy",
                "the difference between a `while` loop and a `do-while` loop",
                "A `do-while` loop checks its condition after the body, so the body runs at "
                "least once",
                (
                    "A `while` loop always runs its body at least once",
                    "A `do-while` loop cannot contain `break`",
                    "There is no difference",
                ),
                "A `while` loop tests the condition before each iteration and may run zero "
                "times. A `do-while` loop tests it after the body, which suits input "
                "validation where the prompt must appear at least once.",
            ),
            _Concept(
                "medium",
                "what happens when a `case` label in a `switch` has no `break`",
                "Execution falls through into the statements of the next case",
                (
                    "The compiler reports an error",
                    "The `switch` exits automatically",
                    "Control jumps straight to `default`",
                ),
                "Case labels are only entry points, so without `break` execution continues "
                "into the following case. Fall-through is occasionally intended, but a "
                "forgotten `break` is a classic bug that `-Wimplicit-fallthrough` can catch.",
            ),
        ],
    ),
    _Chapter(
        "functions",
        [
            _Task(
                "easy",
                "defines a function `square` and uses it to print the squares of 1 to $n",
                r"""
int square(int x) {
    return @[x * 2@|x * x@];
}
---
for (int i = 1; i <= $n; i++) {
    printf("%d squared is %d\n", i, square(i));
}""",
                "A square is `x * x`, not `x * 2`.",
            ),
            _Task(
                "medium",
                "uses a recursive function to compute the factorial of $a",
                r"""
long long factorial(int n) {
    if (n <= 1) {
        return 1;
    }
    return n * factorial(@[n@|n - 1@]);
}
---
printf("%d! = %lld\n", $a, factorial($a));""",
                "The recursive call must use `n - 1`; `factorial(n)` recurses until the stack "
                "overflows.",
            ),
            _Task(
                "medium",
                "writes a function `swap` that exchanges two integers through pointers "
                "and uses it to swap $a and $b",
                r"""
void swap(@[int x, int y@|int *x, int *y@]) {
    @[int tmp = x;
    x = y;
    y = tmp;@|int tmp = *x;
    *x = *y;
    *y = tmp;@]
}
---
int a = $a, b = $b;
swap(@[a, b@|&a, &b@]);
printf("a = %d, b = %d\n", a, b);""",
                "C passes arguments by value, so `swap` must take pointers and be called with "
                "`&a, &b`.",
            ),
            _Task(
                "hard",
                "defines a function `is_prime` and prints all primes up to $c",
                r"""
int is_prime(int n) {
    if (n < 2) {
        return 0;
    }
    for (int d = 2; d * d @[<@|<=@] n; d++) {
        if (n % d == 0) {
            return 0;
        }
    }
    return 1;
}
---
for (int i = 2; i <= $c; i++) {
    if (is_prime(i)) {
        printf("%d ", i);
    }
}
printf("\n");""",
                "With `d * d < n`, squares of primes such as 9 and 25 are reported as prime.",
            ),
        ],
        [
            _Concept(
                "easy",
                "what a function prototype such as `int add(int a, int b);` tells the compiler",
                "The function's name, return type and parameter types before its definition "
                "is seen",
                (
                    "It allocates memory for the function's local variables",
                    "It defines the body of the function",
                    "It makes the function inline",
                ),
                "A prototype declares the function's interface so the compiler can check "
                "calls that appear before the definition, for example in another file. "
                "Without it, argument types cannot be checked and mistakes go unnoticed.",
            ),
            _Concept(
                "medium",
                "how arguments are passed to functions in C",
                "By value: the function receives copies of the arguments",
                (
                    "By reference: the function works directly on the caller's variables",
                    "By name, like macro arguments",
                    "Arrays are copied element by element",
                ),
                "C always passes arguments by value, so changing a parameter does not affect "
                "the caller. To let a function modify caller data you pass a pointer; arrays "
                "only seem to be passed by reference because they decay to a pointer.",
            ),
            _Concept(
                "medium",
                "what the `static` keyword does to a local variable inside a function",
                "The variable keeps its value between calls because it has static storage duration",
                (
                    "The variable becomes visible to other source files",
                    "The variable is reallocated on every call",
                    "The variable becomes read-only",
                ),
                "A `static` local is initialised once and lives for the whole run of the "
                "program. Its scope is still the function, which makes it a simple way to "
                "keep state such as a call counter.",
            ),
        ],
    ),
    _Chapter(
        "arrays",
        [
            _Task(
                "easy",
                "finds the largest element of the array $arr_c",
                r"""
int values[] = $arr_c;
int count = sizeof(values) / sizeof(values[0]);
int max = values[0];
for (int i = 1; i < count; i++) {
    if (values[i] @[<@|>@] max) {
        max = values[i];
    }
}
printf("Largest element: %d\n", max);""",
                "The comparison must be `values[i] > max`; with `<` the loop finds the minimum.",
            ),
            _Task(
                "easy",
                "computes the sum and average of the array $arr_c",
                r"""
int values[] = $arr_c;
int count = sizeof(values) / sizeof(values[0]);
int sum = 0;
for (int i = 0; @[i <= count@|i < count@]; i++) {
    sum += values[i];
}
printf("Sum: %d, Average: %.2f\n", sum, (double)sum / count);""",
                "Valid indices are 0 to count - 1; `i <= count` reads past the end of the array.",
            ),
            _Task(
                "medium",
                "reverses the array $arr_c in place and prints it",
                r"""
int values[] = $arr_c;
int count = sizeof(values) / sizeof(values[0]);
for (int i = 0; i < @[count@|count / 2@]; i++) {
    int tmp = values[i];
    values[i] = values[count - 1 - i];
    values[count - 1 - i] = tmp;
}
for (int i = 0; i < count; i++) {
    printf("%d ", values[i]);
}
printf("\n");""",
                "Looping over the whole array swaps every pair twice and restores the original "
                "order; stop at `count / 2`.",
            ),
            _Task(
                "hard",
                "sorts the array $arr_c in ascending order using bubble sort",
                r"""
int values[] = $arr_c;
int count = sizeof(values) / sizeof(values[0]);
for (int pass = 0; pass < count - 1; pass++) {
    for (int i = 0; i < @[count - pass@|count - 1 - pass@]; i++) {
        if (values[i] > values[i + 1]) {
            int tmp = values[i];
            values[i] = values[i + 1];
            values[i + 1] = tmp;
        }
    }
}
for (int i = 0; i < count; i++) {
    printf("%d ", values[i]);
}
printf("\n");""",
                "With `count - pass` the first pass reads `values[count]`, one past the end; the "
                "bound must be `count - 1 - pass`.",
            ),
        ],
        [
            _Concept(
                "easy",
                "the value of `arr[$k]` after `int arr[] = $arr_c;`",
                "$arr_k",
                ("$arr_k_next", "$arr_k_prev", "$k"),
                "Array indices in C start at 0, so `arr[$k]` is element number $k_plus when "
                "counting from one. In this array that element is $arr_k.",
            ),
            _Concept(
                "medium",
                "the value of `sizeof(arr) / sizeof(arr[0])` for `int arr[$size];` "
                "in the scope where it is declared",
                "$size",
                ("$size_bytes", "4", "It depends on the values stored"),
                "`sizeof(arr)` is the size of the whole array in bytes and `sizeof(arr[0])` "
                "the size of one element, so the quotient is the element count, $size. The "
                "trick fails inside a function that receives the array as a parameter, "
                "because there `arr` is just a pointer.",
            ),
            _Concept(
                "medium",
                "what happens when a program reads `arr[10]` from an array declared "
                "as `int arr[10]`",
                "The behaviour is undefined because C does not check array bounds",
                (
                    "An out-of-bounds exception is thrown",
                    "The compiler always rejects the program",
                    "The expression evaluates to 0",
                ),
                "Valid indices are 0 to 9, and C performs no run-time bounds checking. "
                "Reading past the end may return garbage, crash or appear to work, which is "
                "why tools such as AddressSanitizer are used to catch it.",
            ),
        ],
    ),
    _Chapter(
        "strings",
        [
            _Task(
                "easy",
                'computes the length of the string "$word" without using `strlen`',
                r"""
int my_strlen(const char *s) {
    int length = 0;
    while (s[length] != @['0'@|'\0'@]) {
        length++;
    }
    return length;
}
---
printf("Length: %d\n", my_strlen("$word"));""",
                r"Strings end with the null character `'\0'`, not the digit character `'0'`.",
            ),
            _Task(
                "easy",
                'counts the vowels in the string "$word"',
                r"""
const char *text = "$word";
int vowels@[@| = 0@];
for (int i = 0; text[i] != '\0'; i++) {
    char ch = (char)tolower((unsigned char)text[i]);
    if (ch == 'a' || ch == 'e' || ch == 'i' || ch == 'o' || ch == 'u') {
        vowels++;
    }
}
printf("Vowels: %d\n", vowels);""",
                "`vowels` was never initialised, so counting started from an indeterminate value.",
                "ctype.h",
            ),
            _Task(
                "medium",
                'reverses the string "$word" in place',
                r"""
char text[] = "$word";
int length = (int)strlen(text);
for (int i = 0; i < length / 2; i++) {
    char tmp = text[i];
    text[i] = text[@[length - i@|length - 1 - i@]];
    text[@[length - i@|length - 1 - i@]] = tmp;
}
printf("Reversed: %s\n", text);""",
                r"The last character is at `length - 1 - i`; `length - i` swaps in the `'\0'`.",
                "string.h",
            ),
            _Task(
                "hard",
                'checks whether the string "$word" is a palindrome',
                r"""
int is_palindrome(const char *s) {
    int left = 0;
    int right = (int)strlen(s) - 1;
    while (left < right) {
        if (s[left] != s[right]) {
            return 0;
        }
        left++;
        @[right++;@|right--;@]
    }
    return 1;
}
---
const char *word = "$word";
printf("%s is %sa palindrome\n", word, is_palindrome(word) ? "" : "not ");""",
                "`right` must move towards the middle (`right--`); `right++` walks off the end.",
                "string.h",
            ),
        ],
        [
            _Concept(
                "easy",
                'the value of `sizeof(s)` for `char s[] = "$word";`',
                "$word_len_plus",
                ("$word_len", "$word_len_minus", "The size of a pointer"),
                r"A string literal is stored with a terminating null character `'\0'`, so "
                "the array needs one byte more than its $word_len visible characters. "
                "`sizeof(s)` is therefore $word_len_plus, while `strlen(s)` is $word_len.",
            ),
            _Concept(
                "medium",
                "why `s1 == s2` is the wrong way to compare two C strings",
                "It compares the addresses of the arrays, not their characters; `strcmp` "
                "compares contents",
                (
                    "It only compares the first character",
                    "It compares the string lengths",
                    "It is correct and compares every character",
                ),
                "In an expression a `char` array decays to a pointer, so `==` checks whether "
                "both pointers refer to the same memory. To compare contents use "
                "`strcmp(s1, s2) == 0`, which walks both strings character by character.",
            ),
            _Concept(
                "hard",
                "why `gets()` was removed from the C standard library",
                "It cannot limit how many characters it reads, so it invites buffer overflows",
                (
                    "It was too slow for large inputs",
                    "It only worked on Windows",
                    "It could not read spaces",
                ),
                "`gets` writes input into a buffer without knowing the buffer's size, so long "
                "input overwrites adjacent memory. It was deprecated in C99 and removed in "
                "C11; `fgets(buf, sizeof buf, stdin)` is the safe replacement.",
            ),
        ],
    ),
    _Chapter(
        "pointers",
        [
            _Task(
                "easy",
                "uses a pointer to double the value of a variable initialised to $c",
                r"""
int value = $c;
int *ptr = @[value@|&value@];
*ptr = *ptr * 2;
printf("value = %d, *ptr = %d\n", value, *ptr);""",
                "A pointer must be initialised with an address, so use `&value`.",
            ),
            _Task(
                "medium",
                "sums the elements of the array $arr_c using pointer arithmetic instead "
                "of indexing",
                r"""
int values[] = $arr_c;
int count = sizeof(values) / sizeof(values[0]);
int sum = 0;
for (int *p = values; p < values + count; p++) {
    sum += @[p@|*p@];
}
printf("Sum: %d\n", sum);""",
                "`p` holds an address; dereference it with `*p` to add the element's value.",
            ),
            _Task(
                "medium",
                "writes a function that returns both the minimum and the maximum of "
                "$arr_c through pointer parameters",
                r"""
void min_max(const int *values, int count, int *min, int *max) {
    *min = *max = values[0];
    for (int i = 1; i < count; i++) {
        if (values[i] < *min) {
            *min = values[i];
        }
        if (values[i] > *max) {
            @[max = values[i];@|*max = values[i];@]
        }
    }
}
---
int values[] = $arr_c;
int lo, hi;
min_max(values, sizeof(values) / sizeof(values[0]), &lo, &hi);
printf("Min: %d, Max: %d\n", lo, hi);""",
                "Assigning to `max` changes the local pointer; the result must be written "
                "through it with `*max`.",
            ),
            _Task(
                "hard",
                "uses a pointer to a pointer so that a function can redirect the "
                "caller's pointer to the larger of $a and $b",
                r"""
void point_to_larger(int **target, int *x, int *y) {
    @[target = (*x > *y) ? &x : &y;@|*target = (*x > *y) ? x : y;@]
}
---
int a = $a, b = $b;
int *larger = NULL;
point_to_larger(&larger, &a, &b);
printf("Larger value: %d\n", *larger);""",
                "The function must write through the double pointer (`*target = ...`); assigning "
                "to `target` leaves `larger` NULL.",
            ),
        ],
        [
            _Concept(
                "easy",
                "the value of `*(arr + $k)` after `int arr[] = $arr_c;`",
                "$arr_k",
                ("$arr_k_next", "$arr0_plus_k", "The address of `arr[$k]`"),
                "The array name decays to a pointer to its first element, and adding $k "
                "moves it $k elements forward. Dereferencing with `*` yields `arr[$k]`, "
                "which is $arr_k.",
            ),
            _Concept(
                "medium",
                "what a dangling pointer is",
                "A pointer that still holds the address of memory that was freed or went out "
                "of scope",
                (
                    "A pointer that has been set to `NULL`",
                    "A pointer declared without a type",
                    "A pointer to another pointer",
                ),
                "After `free`, or when a local variable's lifetime ends, pointers to that "
                "memory still contain the old address. Dereferencing them is undefined "
                "behaviour, so a common defence is to set pointers to `NULL` after freeing.",
            ),
            _Concept(
                "medium",
                "the difference between `const int *p` and `int *const p`",
                "`const int *p` cannot modify the pointed-to int; `int *const p` cannot be "
                "made to point elsewhere",
                (
                    "They are identical",
                    "`const int *p` cannot be re-pointed; `int *const p` cannot modify the int",
                    "Both make the pointer and the int read-only",
                ),
                "Read the declaration from right to left: `const int *p` is a pointer to a "
                "constant int, while `int *const p` is a constant pointer to an int. "
                "`const int *const p` combines both restrictions.",
            ),
        ],
    ),
    _Chapter(
        "structures",
        [
            _Task(
                "easy",
                "defines a `struct $ent` with fields `$sfield` and `$nfield`, creates "
                "one $ent and prints it",
                r"""
struct $ent {
    char $sfield[50];
    double $nfield;
}@[@|;@]
---
struct $ent item = {"$sval", $nval};
printf("%s: %.2f\n", item.$sfield, item.$nfield);""",
                "A structure definition must end with a semicolon after the closing brace.",
            ),
            _Task(
                "medium",
                "stores three $ent records in an array of structures and prints the "
                "one with the highest $nfield",
                r"""
struct $ent {
    int id;
    double $nfield;
};
---
struct $ent items[] = {{101, $f1}, {102, $f2}, {103, $f3}};
int best = 0;
for (int i = 1; i < 3; i++) {
    if (items[i].$nfield > items[@[i@|best@]].$nfield) {
        best = i;
    }
}
printf("Highest $nfield: id %d (%.2f)\n", items[best].id, items[best].$nfield);""",
                "Each element must be compared with the current best, `items[best]`, not with "
                "itself.",
            ),
            _Task(
                "medium",
                "passes a `struct $ent` to a function that increases its $nfield by $a percent",
                r"""
struct $ent {
    char $sfield[50];
    double $nfield;
};

void raise_$nfield(@[struct $ent item@|struct $ent *item@], double percent) {
    @[item.$nfield@|item->$nfield@] *= 1.0 + percent / 100.0;
}
---
struct $ent item = {"$sval", $nval};
raise_$nfield(@[item@|&item@], $a);
printf("%s: %.2f\n", item.$sfield, item.$nfield);""",
                "Passing the structure by value modifies a copy; pass a pointer and use `->` so "
                "the caller's $ent changes.",
            ),
            _Task(
                "hard",
                "sorts an array of `$Ent` structures by $nfield with `qsort`",
                r"""
typedef struct {
    int id;
    double $nfield;
} $Ent;

int compare(const void *a, const void *b) {
    const $Ent *x = a;
    const $Ent *y = b;
    @[return (int)(x->$nfield - y->$nfield);@|if (x->$nfield < y->$nfield) {
        return -1;
    }
    return x->$nfield > y->$nfield;@]
}
---
$Ent items[] = {{1, $f1}, {2, $f2}, {3, $f3}};
qsort(items, 3, sizeof(items[0]), compare);
for (int i = 0; i < 3; i++) {
    printf("%d: %.1f\n", items[i].id, items[i].$nfield);
}""",
                "Casting the difference of two doubles to `int` turns small differences into 0; "
                "compare with `>` and `<` instead.",
                "stdlib.h",
            ),
        ],
        [
            _Concept(
                "easy",
                "how to access the `$nfield` member through a pointer `p` to a `struct $ent`",
                "`p->$nfield`, which is shorthand for `(*p).$nfield`",
                ("`p.$nfield`", "`*p.$nfield`", "`p::$nfield`"),
                "The arrow operator dereferences the pointer and selects the member in one "
                "step. `*p.$nfield` is wrong because `.` binds tighter than `*`, which is "
                "exactly why `->` exists.",
            ),
            _Concept(
                "medium",
                "why `sizeof(struct { char c; int i; })` is usually 8 rather than 5",
                "The compiler inserts padding so that `i` starts at a suitably aligned address",
                (
                    "`char` always occupies 4 bytes",
                    "Structures store a hidden type tag",
                    "`sizeof` rounds every result up to a multiple of 8",
                ),
                "Most CPUs access an `int` fastest (or only) at addresses that are multiples "
                "of 4, so 3 padding bytes follow `c`. Ordering members from largest to "
                "smallest often reduces padding.",
            ),
            _Concept(
                "medium",
                "the difference between a `struct` and a `union` in C",
                "All members of a union share the same storage, so it is only as large as its "
                "largest member",
                (
                    "A union cannot contain arrays",
                    "Unions are always allocated on the heap",
                    "The members of a struct share one memory location",
                ),
                "A struct lays its members out one after another, so all of them hold values "
                "at the same time. A union overlaps them, so only the member written last is "
                "meaningful; unions save memory or implement tagged variants.",
            ),
        ],
    ),
    _Chapter(
        "file_io",
        [
            _Task(
                "easy",
                'writes the numbers 1 to $n to the file "$fname", one per line',
                r"""
FILE *fp = fopen("$fname", @["r"@|"w"@]);
if (fp == NULL) {
    perror("fopen");
    return 1;
}
for (int i = 1; i <= $n; i++) {
    fprintf(fp, "%d\n", i);
}
fclose(fp);""",
                'The file must be opened in write mode "w"; mode "r" is read-only.',
            ),
            _Task(
                "medium",
                'counts the lines in the text file "$fname"',
                r"""
FILE *fp = fopen("$fname", "r");
if (fp == NULL) {
    perror("fopen");
    return 1;
}
int lines = 0;
@[char ch;@|int ch;@]
while ((ch = fgetc(fp)) != EOF) {
    if (ch == '\n') {
        lines++;
    }
}
fclose(fp);
printf("Lines: %d\n", lines);""",
                "`fgetc` returns an `int`; storing it in a `char` makes the `EOF` test unreliable.",
            ),
            _Task(
                "medium",
                'reads integers from "$fname" until end of file and prints their sum',
                r"""
FILE *fp = fopen("$fname", "r");
if (fp == NULL) {
    perror("fopen");
    return 1;
}
int value, sum = 0;
while (@[!feof(fp)@|fscanf(fp, "%d", &value) == 1@]) {
    @[fscanf(fp, "%d", &value);
    @|@]sum += value;
}
fclose(fp);
printf("Sum: %d\n", sum);""",
                "`feof` only becomes true after a read fails, so the last value is added twice; "
                "loop on the result of `fscanf`.",
            ),
            _Task(
                "hard",
                'writes the array $arr_c to the binary file "$bname" with `fwrite` and '
                "reads it back with `fread`",
                r"""
int values[] = $arr_c;
int loaded[$size];
FILE *fp = fopen("$bname", "wb");
if (fp == NULL) {
    return 1;
}
fwrite(values, sizeof(int), $size, fp);
@[@|fclose(fp);
@]fp = fopen("$bname", "rb");
if (fp == NULL) {
    return 1;
}
size_t count = fread(loaded, sizeof(int), $size, fp);
fclose(fp);
for (size_t i = 0; i < count; i++) {
    printf("%d ", loaded[i]);
}
printf("\n");""",
                "Without `fclose` the written data may still sit in the buffer (and the handle "
                "leaks), so `fread` can read nothing.",
            ),
        ],
        [
            _Concept(
                "easy",
                "what `fopen` returns when a file cannot be opened",
                "`NULL`",
                ("`EOF`", "`-1`", "An empty `FILE` object"),
                "On failure `fopen` returns a null pointer and sets `errno` to describe the "
                "problem. Always check for `NULL` before using the stream, and use `perror` "
                "to print a helpful message.",
            ),
            _Concept(
                "medium",
                'the difference between the modes "w" and "a" in `fopen`',
                '"w" truncates the file to zero length, while "a" writes at the end of the '
                "existing contents",
                (
                    '"w" appends and "a" overwrites',
                    '"a" opens the file read-only',
                    "There is no difference for text files",
                ),
                'Both modes create the file if it does not exist. Mode "w" discards any '
                'previous contents, whereas "a" positions every write at the end of the '
                "file, which is what log files need.",
            ),
            _Concept(
                "medium",
                "why a program should call `fclose` on every file it opens",
                "It flushes buffered output and releases the operating-system file handle",
                (
                    "It deletes the file's temporary copy",
                    "It is only required for binary files",
                    "It rewinds the file to the beginning",
                ),
                "Writes through a `FILE *` are buffered, so data may not reach the disk until "
                "the stream is flushed or closed. A process can also hold only a limited "
                "number of open files, so leaking handles eventually makes `fopen` fail.",
            ),
        ],
    ),
    _Chapter(
        "memory_management",
        [
            _Task(
                "easy",
                "allocates an array of $n ints with `malloc`, fills it with squares and prints it",
                r"""
int *values = malloc($n * sizeof(int));
if (values == NULL) {
    return 1;
}
for (int i = 0; i < $n; i++) {
    values[i] = i * i;
    printf("%d ", values[i]);
}
printf("\n");
@[@|free(values);@]""",
                "Memory obtained with `malloc` must be released with `free`, otherwise it leaks.",
                "stdlib.h",
            ),
            _Task(
                "medium",
                'copies the string "$word" into heap memory with `malloc` and `strcpy`',
                r"""
const char *source = "$word";
char *copy = malloc(@[strlen(source)@|strlen(source) + 1@]);
if (copy == NULL) {
    return 1;
}
strcpy(copy, source);
printf("Copy: %s\n", copy);
free(copy);""",
                r"`strlen` does not count the terminating `'\0'`, so one extra byte is needed.",
                "stdlib.h string.h",
            ),
            _Task(
                "medium",
                "grows a dynamic array with `realloc` while appending the numbers 1 to $n",
                r"""
int capacity = 2, count = 0;
int *data = malloc(capacity * sizeof(int));
if (data == NULL) {
    return 1;
}
for (int i = 1; i <= $n; i++) {
    if (count == capacity) {
        capacity *= 2;
        int *grown = realloc(data, capacity * sizeof(int));
        if (grown == NULL) {
            free(data);
            return 1;
        }
        @[@|data = grown;@]
    }
    data[count++] = i;
}
printf("Stored %d values, capacity %d\n", count, capacity);
free(data);""",
                "`realloc` may move the block, so the returned pointer must be stored back into "
                "`data`.",
                "stdlib.h",
            ),
            _Task(
                "hard",
                "allocates a $a x $b matrix as an array of row pointers, fills it and "
                "frees it correctly",
                r"""
int rows = $a, cols = $b;
int **matrix = malloc(rows * sizeof(int *));
if (matrix == NULL) {
    return 1;
}
for (int r = 0; r < rows; r++) {
    matrix[r] = malloc(cols * sizeof(int));
    for (int c = 0; c < cols; c++) {
        matrix[r][c] = r * cols + c;
    }
}
printf("Last element: %d\n", matrix[rows - 1][cols - 1]);
@[free(matrix);@|for (int r = 0; r < rows; r++) {
    free(matrix[r]);
}
free(matrix);@]""",
                "Each row was allocated separately, so every `matrix[r]` must be freed before "
                "`matrix` itself.",
                "stdlib.h",
            ),
        ],
        [
            _Concept(
                "easy",
                "the difference between `malloc` and `calloc`",
                "`calloc` takes an element count and size and zero-initialises the block; "
                "`malloc` leaves it uninitialised",
                (
                    "`malloc` allocates on the stack and `calloc` on the heap",
                    "`calloc` memory does not need to be freed",
                    "`malloc` can only allocate bytes, not ints",
                ),
                "Both return heap memory that must be released with `free`. `calloc(n, size)` "
                "also checks the multiplication for overflow and sets every byte to zero, "
                "whereas `malloc` memory contains indeterminate values.",
            ),
            _Concept(
                "medium",
                "what a memory leak is",
                "Heap memory that is no longer reachable by the program but was never freed",
                (
                    "Reading memory outside an array's bounds",
                    "A pointer that points to freed memory",
                    "Stack memory that grows after each function call",
                ),
                "When the last pointer to a heap block is lost or overwritten, the block can "
                "never be freed. Long-running programs that leak steadily consume more "
                "memory, and tools such as Valgrind report the leaked blocks.",
            ),
            _Concept(
                "hard",
                "what happens when `free` is called twice on the same pointer",
                "The behaviour is undefined and often corrupts the heap or crashes the program",
                (
                    "The second call is silently ignored",
                    "It frees the next block on the heap",
                    "The compiler reports an error",
                ),
                "After the first `free` the block belongs to the allocator again, and freeing "
                "it a second time can corrupt the allocator's bookkeeping. Setting the "
                "pointer to `NULL` after freeing helps, because `free(NULL)` does nothing.",
            ),
        ],
    ),
    _Chapter(
        "advanced",
        [
            _Task(
                "medium",
                "uses an array of function pointers to apply add, subtract and "
                "multiply to $a and $b",
                r"""
int add(int x, int y) { return x + y; }
int subtract(int x, int y) { return x - y; }
int multiply(int x, int y) { return x * y; }
---
int (*operations[])(int, int) = {add, subtract, multiply};
const char *names[] = {"add", "subtract", "multiply"};
for (int i = 0; i < @[4@|3@]; i++) {
    printf("%s(%d, %d) = %d\n", names[i], $a, $b, operations[i]($a, $b));
}""",
                "The array holds 3 function pointers; iterating to 4 calls through an invalid pointer.",
            ),
            _Task(
                "medium",
                "defines a `SQUARE` macro and prints the square of $a + $b",
                r"""
#define SQUARE(x) @[x * x@|((x) * (x))@]
---
printf("SQUARE(%d + %d) = %d\n", $a, $b, SQUARE($a + $b));""",
                "Without parentheses `SQUARE($a + $b)` expands to `$a + $b * $a + $b`; "
                "parenthesise the parameter and the whole expansion.",
            ),
            _Task(
                "hard",
                "uses bitwise operators to count the set bits in $num and to check "
                "whether it is a power of two",
                r"""
unsigned int value = $num;
int bits = 0;
for (unsigned int v = value; v != 0; v >>= 1) {
    bits += v & 1;
}
int power_of_two = value != 0 && @[value & (value - 1) == 0@|(value & (value - 1)) == 0@];
printf("%u has %d set bits\n", value, bits);
printf("Power of two: %s\n", power_of_two ? "yes" : "no");""",
                "`==` binds tighter than `&`, so the bitwise expression must be parenthesised.",
            ),
            _Task(
                "hard",
                "uses a variadic function to compute the average of $a, $b and $c",
                r"""
double average(int count, ...) {
    va_list args;
    va_start(args, count);
    double total = 0;
    for (int i = 0; i < count; i++) {
        total += va_arg(args, int);
    }
    va_end(args);
    return total / count;
}
---
printf("Average: %.2f\n", average(@[4@|3@], $a, $b, $c));""",
                "The count must match the number of values passed; reading a fourth `int` with "
                "`va_arg` is undefined behaviour.",
                "stdarg.h",
            ),
        ],
        [
            _Concept(
                "medium",
                "what the `volatile` qualifier tells the compiler",
                "The object may change outside the program's visible control flow, so every "
                "access must really be performed",
                (
                    "The variable is stored in a CPU register",
                    "The variable is thread-safe",
                    "The variable is constant after initialisation",
                ),
                "Without `volatile` the compiler may keep a value in a register or remove "
                "seemingly redundant reads. It is needed for memory-mapped hardware registers "
                "and variables changed by signal handlers, but it does not make code "
                "thread-safe.",
            ),
            _Concept(
                "medium",
                "the value of `SQUARE($a + 1)` given `#define SQUARE(x) x * x`",
                "$sq_bug",
                ("$sq_ok", "$a_sq1", "It does not compile"),
                "The macro pastes its argument textually, so the expression becomes "
                "`$a + 1 * $a + 1`. Because `*` binds tighter than `+`, it evaluates to "
                "$sq_bug instead of $sq_ok; writing `((x) * (x))` fixes it.",
            ),
            _Concept(
                "hard",
                "the meaning of the `restrict` qualifier on a pointer parameter",
                "The programmer promises that the object is accessed only through that "
                "pointer while it is in use, allowing more optimisation",
                (
                    "The pointer cannot be `NULL`",
                    "The pointed-to object is read-only",
                    "The pointer cannot be incremented",
                ),
                "With `restrict` the compiler may assume that two pointers do not alias, so "
                "it can keep values in registers and vectorise loops. If the promise is "
                "broken, for example by passing overlapping buffers to `memcpy`, the "
                "behaviour is undefined.",
            ),
        ],
    ),
]

# --- C++ --------------------------------------------------------------------------------

_CPP: list[_Chapter] = [
    _Chapter(
        "basics",
        [
            _Task(
                "easy",
                "prints the sum and the average of $a, $b and $c",
                r"""
int x = $a, y = $b, z = $c;
int sum = x + y + z;
double average = @[sum / 3@|sum / 3.0@];
cout << "Sum: " << sum << "\n";
cout << "Average: " << average << "\n";""",
                "`sum / 3` is integer division; divide by `3.0` to keep the fractional part.",
            ),
            _Task(
                "easy",
                "converts $c kilometres to miles and prints the result",
                r"""
const double kMilesPerKm = 0.621371;
double km = $c;
cout << km << " km = " << km @[/@|*@] kMilesPerKm << " miles\n";""",
                "Kilometres are converted to miles by multiplying by the factor, not dividing.",
            ),
            _Task(
                "medium",
                'prints the ASCII code of each character in "$word"',
                r"""
string text = "$word";
for (char ch : text) {
    cout << ch << " = " << @[ch@|static_cast<int>(ch)@] << "\n";
}""",
                "Streaming a `char` prints the character itself; cast it to `int` to print its code.",
                "string",
            ),
            _Task(
                "medium",
                "uses a reference to add $a to a variable initialised to $c and prints "
                "the variable",
                r"""
int value = $c;
int @[@|&@]alias = value;
alias += $a;
cout << "value = " << value << "\n";""",
                "Without `&`, `alias` is an independent copy; declare it as `int &alias`.",
            ),
        ],
        [
            _Concept(
                "easy",
                "what `using namespace std;` does",
                "It lets names from the `std` namespace be used without the `std::` prefix",
                (
                    "It includes every standard header",
                    "It makes the program compile faster",
                    "It is required before `main` can be defined",
                ),
                "Standard library names such as `cout` and `string` live in namespace `std`. "
                "The using-directive brings them into scope, which is convenient in small "
                "programs but should be avoided in headers because it can cause name clashes.",
            ),
            _Concept(
                "easy",
                r"the difference between `std::endl` and the newline character `'\n'`",
                "`std::endl` writes a newline and also flushes the stream",
                (
                    r"`'\n'` flushes the stream but `std::endl` does not",
                    "They behave identically in every case",
                    "`std::endl` only works with `cerr`",
                ),
                r"Both end the line, but `std::endl` additionally calls `flush()`, forcing "
                r"buffered output to the device. Flushing on every line slows down programs "
                r"that print a lot, so `'\n'` is usually preferred.",
            ),
            _Concept(
                "medium",
                "what a reference such as `int &r = x;` is",
                "Another name (alias) for `x` that must be initialised and cannot be reseated",
                (
                    "A copy of `x` made at declaration",
                    "A pointer that may be `nullptr`",
                    "A read-only view of `x`",
                ),
                "After `int &r = x;` every use of `r` reads or writes `x` itself. Unlike a "
                "pointer, a reference must be bound when it is declared and always refers to "
                "the same object.",
            ),
        ],
    ),
    _Chapter(
        "control_flow",
        [
            _Task(
                "easy",
                "prints all even numbers from 2 to $c",
                r"""
for (int i = 2; i <= $c; i @[++@|+= 2@]) {
    cout << i << ' ';
}
cout << '\n';""",
                "Incrementing by 1 prints the odd numbers as well; step by 2.",
            ),
            _Task(
                "easy",
                "uses a switch statement to print the action for the traffic-light code '$light'",
                r"""
char light = '$light';
switch (light) {
case 'R':
    cout << "Stop\n";
    break;
case 'Y':
    cout << "Get ready\n";
    @[@|break;@]
case 'G':
    cout << "Go\n";
    break;
default:
    cout << "Invalid colour\n";
}""",
                "The `'Y'` case has no `break`, so it falls through and also prints \"Go\".",
            ),
            _Task(
                "medium",
                "computes the greatest common divisor of $c and $c2 with the Euclidean algorithm",
                r"""
int a = $c, b = $c2;
while (b != 0) {
    int remainder = a % b;
    a = b;
    @[b = a;@|b = remainder;@]
}
cout << "GCD: " << a << "\n";""",
                "`b` must become the remainder; assigning `a` never reaches 0 and loops forever.",
            ),
            _Task(
                "medium",
                "uses nested loops to print a right triangle of '*' with $size rows",
                r"""
for (int row = 1; row <= $size; row++) {
    for (int col = 1; col <= @[$size@|row@]; col++) {
        cout << '*';
    }
    cout << '\n';
}""",
                "The inner loop must run `row` times; using `$size` prints a square.",
            ),
        ],
        [
            _Concept(
                "easy",
                "what the `continue` statement does inside a loop",
                "It skips the rest of the current iteration and proceeds with the next one",
                (
                    "It leaves the loop immediately",
                    "It restarts the loop from the beginning",
                    "It pauses the program until a key is pressed",
                ),
                "In a `for` loop `continue` jumps to the increment expression and then "
                "re-tests the condition. `break`, by contrast, exits the loop entirely.",
            ),
            _Concept(
                "medium",
                "the value of `x` after `int x = $a; x = x > $b ? x - $b : x + $b;`",
                "$tern",
                ("$tern_other", "$a", "0"),
                "The conditional operator evaluates `x > $b` first and then only one of its "
                "two branches. Here that gives $tern.",
            ),
            _Concept(
                "medium",
                "the scope of a variable declared in the initialiser of a `for` "
                "loop, as in `for (int i = 0; i < n; ++i)`",
                "It exists only inside the loop: its condition, increment and body",
                (
                    "It remains visible until the end of the enclosing function",
                    "It is global to the file",
                    "It is visible only in the loop condition",
                ),
                "A variable declared in the for-initialiser goes out of scope when the loop "
                "ends. This keeps loop counters from leaking and lets several loops reuse the "
                "same name.",
            ),
        ],
    ),
    _Chapter(
        "functions",
        [
            _Task(
                "easy",
                "defines an overloaded function `area` for a square of side $a and a "
                "rectangle of $a by $b",
                r"""
int area(int side) {
    return side * side;
}

int area(int width, int height) {
    return width @[+@|*@] height;
}
---
cout << "Square: " << area($a) << "\n";
cout << "Rectangle: " << area($a, $b) << "\n";""",
                "The rectangle area is `width * height`, not their sum.",
            ),
            _Task(
                "medium",
                'greets $person with a function whose greeting text defaults to "Hello"',
                r"""
void greet(const string &name, const string &greeting@[@| = "Hello"@]) {
    cout << greeting << ", " << name << "!\n";
}
---
greet("$person");
greet("$person", "Welcome");""",
                'The one-argument call needs a default value, declared as `greeting = "Hello"`.',
                "string",
            ),
            _Task(
                "medium",
                "returns the quotient and remainder of $c divided by $a through "
                "reference parameters",
                r"""
void divide(int dividend, int divisor, int @[@|&@]quotient, int @[@|&@]remainder) {
    quotient = dividend / divisor;
    remainder = dividend % divisor;
}
---
int q = 0, r = 0;
divide($c, $a, q, r);
cout << $c << " = " << $a << " * " << q << " + " << r << "\n";""",
                "Without `&` the parameters are copies, so `q` and `r` stay 0.",
            ),
            _Task(
                "hard",
                "computes $a to the power $b with a recursive fast-exponentiation function",
                r"""
long long power(long long base, int exponent) {
    if (exponent == 0) {
        return 1;
    }
    long long half = power(base, exponent / 2);
    if (exponent % 2 == 0) {
        return half * half;
    }
    return @[half * half@|half * half * base@];
}
---
cout << $a << "^" << $b << " = " << power($a, $b) << "\n";""",
                "For odd exponents the result needs one extra factor of `base`.",
            ),
        ],
        [
            _Concept(
                "easy",
                "what function overloading is",
                "Defining several functions with the same name but different parameter lists",
                (
                    "Defining a function that calls itself",
                    "Redefining a function in a derived class",
                    "Giving a function more than one return type",
                ),
                "The compiler chooses the overload whose parameters best match the argument "
                "types of each call. Overloads must differ in their parameter lists; a "
                "different return type alone is not enough.",
            ),
            _Concept(
                "medium",
                "why large objects are usually passed to functions as `const T&`",
                "It avoids copying the object while guaranteeing the function will not modify it",
                (
                    "It makes the function run on a separate thread",
                    "It is required for all class types",
                    "It moves the object into the function",
                ),
                "Passing by value copies the whole object, which is expensive for strings, "
                "vectors and similar types. A const reference gives read-only access to the "
                "caller's object without any copy.",
            ),
            _Concept(
                "hard",
                "what the `inline` keyword means for a function in modern C++",
                "The function may be defined in several translation units, such as in a "
                "header, without violating the one-definition rule",
                (
                    "The compiler must always expand the call in place",
                    "The function cannot take parameters",
                    "The function is evaluated at compile time",
                ),
                "Compilers decide on their own whether to inline a call, so `inline` is "
                "mostly about linkage. It allows identical definitions in several translation "
                "units, which is why functions defined in headers are marked `inline`.",
            ),
        ],
    ),
    _Chapter(
        "arrays",
        [
            _Task(
                "easy",
                "prints the elements of the array $arr_c and their sum using a "
                "range-based for loop",
                r"""
int values[] = $arr_c;
int sum@[@| = 0@];
for (int value : values) {
    cout << value << ' ';
    sum += value;
}
cout << "\nSum: " << sum << "\n";""",
                "`sum` is uninitialised; it must start at 0.",
            ),
            _Task(
                "medium",
                "counts how many elements of $arr_c are greater than $c",
                r"""
int values[] = $arr_c;
int count = 0;
for (size_t i = 0; i < @[sizeof(values)@|sizeof(values) / sizeof(values[0])@]; i++) {
    if (values[i] > $c) {
        count++;
    }
}
cout << count << " values are greater than $c\n";""",
                "`sizeof(values)` is the size in bytes, not the number of elements; divide by "
                "the element size (or use `std::size`).",
            ),
            _Task(
                "medium",
                "prints the sum of the main diagonal of a $dim x $dim matrix filled "
                "with `row * $dim + col`",
                r"""
const int N = $dim;
int matrix[N][N];
for (int r = 0; r < N; r++) {
    for (int c = 0; c < N; c++) {
        matrix[r][c] = r * N + c;
    }
}
int trace = 0;
for (int i = 0; i < N; i++) {
    trace += matrix[i][@[0@|i@]];
}
cout << "Diagonal sum: " << trace << "\n";""",
                "The main diagonal is `matrix[i][i]`; `matrix[i][0]` sums the first column.",
            ),
            _Task(
                "hard",
                "uses binary search to find $target in the sorted array $sorted_c",
                r"""
int values[] = $sorted_c;
int low = 0, high = sizeof(values) / sizeof(values[0]) - 1;
int found = -1;
while (low <= high) {
    int mid = low + (high - low) / 2;
    if (values[mid] == $target) {
        found = mid;
        break;
    }
    if (values[mid] < $target) {
        low = @[mid@|mid + 1@];
    } else {
        high = mid - 1;
    }
}
cout << "Index of $target: " << found << "\n";""",
                "Setting `low = mid` can loop forever when `low` and `high` are adjacent; use "
                "`mid + 1`.",
            ),
        ],
        [
            _Concept(
                "easy",
                "the index of the last element of an array declared as `int data[$size];`",
                "$size_minus",
                ("$size", "$size_plus", "1"),
                "Indices start at 0, so an array of $size elements has valid indices 0 to "
                "$size_minus. Accessing `data[$size]` is already out of bounds.",
            ),
            _Concept(
                "medium",
                "why `std::array` is often preferred over a built-in C-style array",
                "It knows its size, can be copied like a value and works with standard algorithms",
                (
                    "It can grow at run time",
                    "It always stores its data on the heap",
                    "It performs bounds checking on `operator[]`",
                ),
                "`std::array<int, N>` is a zero-overhead wrapper that does not decay to a "
                "pointer. It provides `size()`, iterators and the bounds-checked `at()`, "
                "while `operator[]` stays unchecked.",
            ),
            _Concept(
                "medium",
                "what happens to an array's size information when it is passed as "
                "`void f(int arr[])`",
                "The array decays to a pointer, so the size is lost and must be passed separately",
                (
                    "The whole array is copied with its size",
                    "The size is stored in `arr[-1]`",
                    "The compiler rejects array parameters",
                ),
                "An array parameter is adjusted to a pointer, so `sizeof(arr)` inside `f` "
                "gives the size of a pointer. Pass the length explicitly or use `std::array`, "
                "`std::vector` or `std::span` instead.",
            ),
        ],
    ),
    _Chapter(
        "strings",
        [
            _Task(
                "easy",
                'converts the string "$word" to uppercase in place',
                r"""
string text = "$word";
for (char @[@|&@]ch : text) {
    ch = static_cast<char>(toupper(static_cast<unsigned char>(ch)));
}
cout << text << "\n";""",
                "The loop variable must be a reference (`char &ch`); otherwise only copies change.",
                "string cctype",
            ),
            _Task(
                "medium",
                "counts the occurrences of the letter '$word_first' in \"$word\" using `at()`",
                r"""
string text = "$word";
int count = 0;
for (size_t i = 0; i @[<=@|<@] text.size(); i++) {
    if (text.at(i) == '$word_first') {
        count++;
    }
}
cout << count << "\n";""",
                "Valid indices are 0 to `size() - 1`; `text.at(text.size())` throws "
                "`std::out_of_range`.",
                "string",
            ),
            _Task(
                "medium",
                'prints the last word of "$sentence" using `rfind` and `substr`',
                r"""
string sentence = "$sentence";
size_t space = sentence.rfind(' ');
string last = (space == string::npos) ? sentence : sentence.substr(@[space@|space + 1@]);
cout << "[" << last << "]\n";""",
                "`substr(space)` starts at the space itself; start one character later.",
                "string",
            ),
            _Task(
                "hard",
                'checks whether "$ana1" and "$ana2" are anagrams by sorting copies of both strings',
                r"""
bool isAnagram(string a, string b) {
    sort(a.begin(), a.end());
    @[@|sort(b.begin(), b.end());
    @]return a == b;
}
---
string first = "$ana1", second = "$ana2";
bool result = isAnagram(first, second);
cout << first << " and " << second << (result ? " are" : " are not") << " anagrams\n";""",
                "Both strings must be sorted before comparing; only `a` was sorted.",
                "string algorithm",
            ),
        ],
        [
            _Concept(
                "easy",
                'the value returned by `s.size()` for `std::string s = "$word";`',
                "$word_len",
                ("$word_len_plus", "$word_len_minus", "The capacity of the internal buffer"),
                "`std::string` stores its length explicitly and `size()` returns the number "
                "of characters, $word_len here. Unlike `sizeof` on a C array, the "
                "terminating null character is not counted.",
            ),
            _Concept(
                "medium",
                "the advantages of `std::string` over a C-style `char` array",
                "It manages its own memory, grows as needed and supports `==` and `+`",
                (
                    "It is always faster than a `char` array",
                    "It cannot contain spaces",
                    "It has a fixed maximum length of 255 characters",
                ),
                "A `std::string` allocates and frees storage automatically, so there are no "
                "buffer overflows from `strcpy` or `strcat`. It still offers `c_str()` when a "
                "C API needs a null-terminated string.",
            ),
            _Concept(
                "medium",
                "what `std::string::npos` represents",
                "The value returned by search functions such as `find` when nothing is found",
                (
                    "The position of the last character",
                    "The maximum capacity of a string",
                    "A null pointer constant for strings",
                ),
                "`npos` is the largest value of `size_t`, so it can never be a valid index. "
                "Always compare the result of `find` with `std::string::npos` before using it "
                "as a position.",
            ),
        ],
    ),
    _Chapter(
        "pointers",
        [
            _Task(
                "easy",
                "allocates a single int with `new`, stores $c in it, prints it and releases it",
                r"""
int *value = new int($c);
cout << *value << "\n";
@[delete[] value;@|delete value;@]""",
                "Memory from `new` is released with `delete`; `delete[]` is only for `new[]`.",
            ),
            _Task(
                "medium",
                "searches $arr_c for $c and reports where it was found, handling the "
                "not-found case",
                r"""
int *findValue(int *begin, int *end, int target) {
    for (int *p = begin; p != end; ++p) {
        if (*p == target) {
            return p;
        }
    }
    return nullptr;
}
---
int values[] = $arr_c;
int *match = findValue(values, values + $size, $c);
@[@|if (match == nullptr) {
    cout << "$c not found\n";
    return 0;
}
@]cout << "Found " << *match << " at index " << (match - values) << "\n";""",
                "`findValue` returns `nullptr` when the value is missing, so the result must be "
                "checked before dereferencing.",
            ),
            _Task(
                "medium",
                "uses `std::unique_ptr` to manage a heap-allocated `$Ent` and "
                "transfers its ownership",
                r"""
struct $Ent {
    string $sfield;
    double $nfield;
};
---
unique_ptr<$Ent> item = make_unique<$Ent>($Ent{"$sval", $nval});
unique_ptr<$Ent> owner = @[item@|move(item)@];
cout << owner->$sfield << ": " << owner->$nfield << "\n";""",
                "`unique_ptr` cannot be copied; ownership is transferred with `std::move`.",
                "memory string",
            ),
            _Task(
                "hard",
                "swaps two pointers to $a and $b with a function taking references to pointers",
                r"""
void swapPointers(int *@[@|&@]first, int *@[@|&@]second) {
    int *tmp = first;
    first = second;
    second = tmp;
}
---
int a = $a, b = $b;
int *p = &a, *q = &b;
swapPointers(p, q);
cout << *p << " " << *q << "\n";""",
                "The pointers were passed by value; take them as `int *&` to swap the caller's "
                "pointers.",
            ),
        ],
        [
            _Concept(
                "easy",
                "why `nullptr` is preferred over `NULL` or `0` in C++",
                "It has its own type that converts only to pointer types, so integer overloads "
                "are not picked by mistake",
                (
                    "It is faster to compare",
                    "It frees the memory it is assigned to",
                    "`NULL` is not allowed in C++",
                ),
                "`NULL` is typically the integer 0, so `f(NULL)` can call `f(int)` instead of "
                "`f(char*)`. `nullptr` has type `std::nullptr_t` and always selects the "
                "pointer overload.",
            ),
            _Concept(
                "medium",
                "the difference between `delete` and `delete[]`",
                "`delete` releases one object created with `new`; `delete[]` releases an array "
                "created with `new[]`",
                (
                    "They are interchangeable",
                    "`delete[]` only frees the first element",
                    "`delete` works only on arrays of classes",
                ),
                "Mismatching the forms is undefined behaviour, because `delete[]` must run "
                "the destructor of every element. Modern code avoids both by using "
                "`std::vector` and smart pointers.",
            ),
            _Concept(
                "medium",
                "the ownership rule of `std::unique_ptr`",
                "Exactly one `unique_ptr` owns the object; it can be moved but not copied and "
                "deletes the object when destroyed",
                (
                    "Several `unique_ptr`s can share the object and count references",
                    "It never deletes the object automatically",
                    "It can only manage arrays",
                ),
                "Copying a `unique_ptr` is a compile-time error, and `std::move` transfers "
                "ownership, leaving the source empty. Because the destructor releases the "
                "object, memory is freed even when an exception is thrown.",
            ),
        ],
    ),
    _Chapter(
        "oop",
        [
            _Task(
                "easy",
                "defines a class `$Ent` with private fields `$sfield` and `$nfield`, a "
                "constructor and a `print` method",
                r"""
class $Ent {
@[@|public:
@]    $Ent(const string &$sfield, double $nfield) : ${sfield}_($sfield), ${nfield}_($nfield) {}
    void print() const {
        cout << ${sfield}_ << ": " << ${nfield}_ << "\n";
    }

private:
    string ${sfield}_;
    double ${nfield}_;
};
---
$Ent item("$sval", $nval);
item.print();""",
                "Class members are private by default, so the constructor and `print` must be "
                "declared under `public:`.",
                "string",
            ),
            _Task(
                "medium",
                "defines a `BankAccount` class whose `withdraw` refuses to overdraw, "
                "then deposits $c and withdraws $c2",
                r"""
class BankAccount {
public:
    void deposit(double amount) {
        balance_ += amount;
    }
    bool withdraw(double amount) {
        if (amount @[<@|>@] balance_) {
            return false;
        }
        balance_ -= amount;
        return true;
    }
    double balance() const {
        return balance_;
    }

private:
    double balance_ = 0.0;
};
---
BankAccount account;
account.deposit($c);
cout << (account.withdraw($c2) ? "Withdrawn" : "Insufficient funds") << "\n";
cout << "Balance: " << account.balance() << "\n";""",
                "A withdrawal must be refused when `amount > balance_`; the inverted test allows "
                "overdrafts.",
            ),
            _Task(
                "medium",
                "uses a static member to count how many `Counter` objects were "
                "created, then creates $size of them",
                r"""
class Counter {
public:
    Counter() {
        ++created;
    }
    static int created;
};
@[@|int Counter::created = 0;@]
---
[[maybe_unused]] Counter counters[$size];
cout << "Objects created: " << Counter::created << "\n";""",
                "A non-inline static data member must be defined once outside the class, "
                "otherwise the linker reports an undefined reference.",
            ),
            _Task(
                "hard",
                "defines a `Rectangle` class and prints the area of a $a x $b rectangle "
                "through a const reference",
                r"""
class Rectangle {
public:
    Rectangle(double width, double height) : width_(width), height_(height) {}
    double area() @[@|const @]{
        return width_ * height_;
    }

private:
    double width_;
    double height_;
};

void report(const Rectangle &shape) {
    cout << "Area: " << shape.area() << "\n";
}
---
Rectangle rect($a, $b);
report(rect);""",
                "`area` is called on a const reference, so it must be a `const` member function.",
            ),
        ],
        [
            _Concept(
                "easy",
                "the difference between `public` and `private` class members",
                "Public members are accessible from any code; private members only from the "
                "class's own member functions and friends",
                (
                    "Private members are stored on the heap",
                    "Public members cannot be modified",
                    "Private members are shared by all objects of the class",
                ),
                "Access specifiers enforce encapsulation: data stays private and the class "
                "offers a public interface to use it. Members of a `class` are private by "
                "default, while members of a `struct` are public by default.",
            ),
            _Concept(
                "medium",
                "what a constructor initialiser list is and why it is preferred",
                "It initialises members directly before the constructor body runs, which is "
                "required for const and reference members",
                (
                    "It is a list of all constructors of the class",
                    "It assigns members after the constructor body runs",
                    "It is only used for static members",
                ),
                "Members named in the initialiser list are constructed with the given values "
                "instead of being default-constructed and then assigned. Members are "
                "initialised in declaration order, not in the order of the list.",
            ),
            _Concept(
                "medium",
                "what the `this` pointer refers to inside a non-static member function",
                "The object on which the member function was called",
                (
                    "The class itself, shared by all objects",
                    "The most recently created object",
                    "The base class of the object",
                ),
                "Every non-static member function receives `this` implicitly, and member "
                "names are looked up through it. It is used explicitly to return `*this` for "
                "chaining or to tell members apart from parameters with the same name.",
            ),
        ],
    ),
    _Chapter(
        "inheritance",
        [
            _Task(
                "easy",
                "derives a class `$Animal` from a base class `Animal` and uses an "
                "inherited member function",
                r"""
class Animal {
public:
    explicit Animal(const string &name) : name_(name) {}
    string name() const {
        return name_;
    }

private:
    string name_;
};

class $Animal : @[private@|public@] Animal {
public:
    explicit $Animal(const string &name) : Animal(name) {}
    void speak() const {
        cout << name() << " says $sound\n";
    }
};
---
$Animal pet("$person");
pet.speak();
cout << pet.name() << "\n";""",
                "With private inheritance the base's public members become private in "
                "`$Animal`; use public inheritance.",
                "string",
            ),
            _Task(
                "medium",
                "deletes a `$Vehicle` object through a `Vehicle*` base pointer so that "
                "both destructors run",
                r"""
class Vehicle {
public:
    @[@|virtual @]~Vehicle() {
        cout << "Vehicle destroyed\n";
    }
};

class $Vehicle : public Vehicle {
public:
    ~$Vehicle() {
        cout << "$Vehicle destroyed\n";
    }
};
---
Vehicle *vehicle = new $Vehicle();
delete vehicle;""",
                "Deleting through a base pointer needs a virtual destructor in the base class; "
                "otherwise the derived destructor is skipped.",
            ),
            _Task(
                "medium",
                "lets a derived `Square` class with side $a use a member of its base class `Shape`",
                r"""
class Shape {
@[private@|protected@]:
    string label_ = "shape";
};

class Square : public Shape {
public:
    explicit Square(double side) : side_(side) {
        label_ = "square";
    }
    void describe() const {
        cout << label_ << " with area " << side_ * side_ << "\n";
    }

private:
    double side_;
};
---
Square square($a);
square.describe();""",
                "Private members are not accessible in derived classes; `label_` must be "
                "`protected`.",
                "string",
            ),
            _Task(
                "hard",
                "overrides `pay` in a `Manager` class so that it adds a bonus of $bonus "
                "to the base salary of $salary",
                r"""
class Employee {
public:
    explicit Employee(double salary) : salary_(salary) {}
    virtual ~Employee() = default;
    virtual double pay() const {
        return salary_;
    }

protected:
    double salary_;
};

class Manager : public Employee {
public:
    Manager(double salary, double bonus) : Employee(salary), bonus_(bonus) {}
    double pay() const override {
        return @[pay()@|Employee::pay()@] + bonus_;
    }

private:
    double bonus_;
};
---
Manager boss($salary, $bonus);
cout << "Pay: " << boss.pay() << "\n";""",
                "Calling `pay()` inside `Manager::pay` recurses forever; call the base version "
                "as `Employee::pay()`.",
            ),
        ],
        [
            _Concept(
                "easy",
                "what public inheritance models",
                "An is-a relationship: a derived object can be used wherever a base object is "
                "expected",
                (
                    "A has-a relationship between two classes",
                    "A copy of the base class's source code",
                    "A relationship in which the base can access derived members",
                ),
                "With `class Dog : public Animal` every `Dog` is an `Animal`, so a `Dog&` "
                "converts to an `Animal&`. Public members of the base stay public in the "
                "derived class.",
            ),
            _Concept(
                "medium",
                "the order in which constructors and destructors run for a derived object",
                "Base constructor, then members, then the derived constructor body; "
                "destructors run in reverse order",
                (
                    "Derived constructor first, then the base constructor",
                    "Only the derived constructor runs",
                    "Constructors and destructors both run base first",
                ),
                "A derived object is built on top of a fully constructed base, so the base "
                "constructor runs first. Destruction mirrors construction, so the derived "
                "destructor runs before the base destructor.",
            ),
            _Concept(
                "hard",
                "the diamond problem and how virtual inheritance solves it",
                "A class inheriting one base through two paths gets two copies of it; virtual "
                "inheritance makes the paths share one base subobject",
                (
                    "It is a compile error caused by circular includes",
                    "It happens when a class has two constructors",
                    "Virtual inheritance makes every member function virtual",
                ),
                "If `B` and `C` both derive from `A` and `D` derives from both, `D` contains "
                "two `A` subobjects and uses of `A`'s members are ambiguous. Declaring "
                "`class B : virtual public A` (and likewise `C`) shares a single `A`.",
            ),
        ],
    ),
    _Chapter(
        "polymorphism",
        [
            _Task(
                "medium",
                "stores a circle of radius $radius and a square of side $a as "
                "`Shape` pointers and prints each area polymorphically",
                r"""
class Shape {
public:
    virtual ~Shape() = default;
    @[double area() const { return 0.0; }@|virtual double area() const = 0;@]
};

class Circle : public Shape {
public:
    explicit Circle(double r) : r_(r) {}
    double area() const@[@| override@] { return 3.14159 * r_ * r_; }
private:
    double r_;
};

class Square : public Shape {
public:
    explicit Square(double side) : side_(side) {}
    double area() const@[@| override@] { return side_ * side_; }
private:
    double side_;
};
---
vector<unique_ptr<Shape>> shapes;
shapes.push_back(make_unique<Circle>($radius));
shapes.push_back(make_unique<Square>($a));
for (const auto &shape : shapes) {
    cout << shape->area() << "\n";
}""",
                "`area` must be virtual in `Shape` (here pure virtual); otherwise calls through "
                "`Shape*` use the base version.",
                "memory vector",
            ),
            _Task(
                "medium",
                "passes a `$Animal` to a function taking an `Animal` so that the "
                "overridden `sound` is called",
                r"""
class Animal {
public:
    virtual ~Animal() = default;
    virtual string sound() const {
        return "...";
    }
};

class $Animal : public Animal {
public:
    string sound() const override {
        return "$sound";
    }
};

void makeSound(const Animal @[@|&@]animal) {
    cout << animal.sound() << "\n";
}
---
$Animal pet;
makeSound(pet);""",
                "Passing by value slices the `$Animal` into a plain `Animal`; pass by reference.",
                "string",
            ),
            _Task(
                "hard",
                "defines an abstract class `Payment` with two implementations and "
                "processes $c with each through base pointers",
                r"""
class Payment {
public:
    virtual ~Payment() = default;
    virtual void process(double amount) const = 0;
};

class CardPayment : public Payment {
public:
    void process(double amount) @[@|const @]override {
        cout << "Card payment: " << amount << " USD\n";
    }
};

class CashPayment : public Payment {
public:
    void process(double amount) const override {
        cout << "Cash payment: " << amount << " USD\n";
    }
};
---
CardPayment card;
CashPayment cash;
const Payment *methods[] = {&card, &cash};
for (const Payment *method : methods) {
    method->process($c);
}""",
                "An override must match the pure virtual exactly, including `const`; otherwise "
                "`override` reports an error.",
            ),
            _Task(
                "medium",
                "overloads `operator+` and `operator<<` for a `Vector2` type and adds "
                "($a, $b) to ($b, $a)",
                r"""
struct Vector2 {
    double x;
    double y;
};

Vector2 operator+(const Vector2 &lhs, const Vector2 &rhs) {
    return {lhs.x + rhs.x, lhs.y + @[rhs.x@|rhs.y@]};
}

ostream &operator<<(ostream &out, const Vector2 &v) {
    return out << "(" << v.x << ", " << v.y << ")";
}
---
Vector2 first{$a, $b};
Vector2 second{$b, $a};
cout << first + second << "\n";""",
                "The y component must add `rhs.y`, not `rhs.x`.",
            ),
        ],
        [
            _Concept(
                "medium",
                "what a virtual function is",
                "A member function whose call through a base pointer or reference is resolved "
                "at run time from the object's dynamic type",
                (
                    "A function that has no body",
                    "A function evaluated at compile time",
                    "A function that can only be called from derived classes",
                ),
                "Declaring a function `virtual` makes calls through a base pointer dispatch "
                "to the most derived override, usually via a vtable. Non-virtual functions "
                "are chosen from the static type instead.",
            ),
            _Concept(
                "medium",
                "why a base class with virtual functions should have a virtual destructor",
                "So that deleting a derived object through a base pointer runs the derived "
                "destructor",
                (
                    "Because constructors cannot be virtual",
                    "To prevent the class being copied",
                    "It makes destruction faster",
                ),
                "If the base destructor is not virtual, `delete base_ptr` is undefined "
                "behaviour and typically skips the derived destructor, leaking resources. "
                "Declaring `virtual ~Base() = default;` fixes this.",
            ),
            _Concept(
                "hard",
                "what object slicing is",
                "Copying a derived object into a base object by value, which discards the "
                "derived part",
                (
                    "Splitting a large class into smaller ones",
                    "Deleting part of an array",
                    "Accessing a member through a null pointer",
                ),
                "When a `Derived` is assigned or passed by value as a `Base`, only the base "
                "subobject is copied and virtual calls use the base implementation. Passing "
                "by reference or pointer preserves the dynamic type.",
            ),
        ],
    ),
    _Chapter(
        "stl",
        [
            _Task(
                "easy",
                "stores $arr_c in a `std::vector`, sorts it in ascending order and prints it",
                r"""
vector<int> values = $arr_c;
sort(values.@[rbegin@|begin@](), values.@[rend@|end@]());
for (int value : values) {
    cout << value << ' ';
}
cout << '\n';""",
                "Sorting through reverse iterators gives descending order; use `begin()` and "
                "`end()`.",
                "vector algorithm",
            ),
            _Task(
                "medium",
                'counts how often each letter occurs in "$word" using `std::map`',
                r"""
map<char, int> counts;
for (char ch : string("$word")) {
    @[counts[ch] = 1;@|counts[ch]++;@]
}
for (const auto &[letter, count] : counts) {
    cout << letter << ": " << count << "\n";
}""",
                "Assigning 1 resets the count on every occurrence; increment it with "
                "`counts[ch]++`.",
                "map string",
            ),
            _Task(
                "medium",
                "removes all even numbers from a vector holding $arr_c with the erase-remove idiom",
                r"""
vector<int> values = $arr_c;
auto isEven = [](int v) { return v % 2 == 0; };
@[@|auto newEnd = @]remove_if(values.begin(), values.end(), isEven);
@[@|values.erase(newEnd, values.end());@]
for (int value : values) {
    cout << value << ' ';
}
cout << '\n';""",
                "`remove_if` only moves the kept elements forward; the leftover tail must be "
                "erased.",
                "vector algorithm",
            ),
            _Task(
                "hard",
                "uses `std::unordered_map` to find two numbers in $arr_c that add up to $pair_sum",
                r"""
vector<int> values = $arr_c;
unordered_map<int, size_t> seen;
for (size_t i = 0; i < values.size(); i++) {
    auto it = seen.find($pair_sum - values[i]);
    if (it != @[seen.begin()@|seen.end()@]) {
        cout << values[it->second] << " + " << values[i] << " = $pair_sum\n";
        break;
    }
    seen[values[i]] = i;
}""",
                "`find` returns `end()` when the key is absent; comparing with `begin()` "
                "dereferences an invalid iterator.",
                "vector unordered_map",
            ),
        ],
        [
            _Concept(
                "easy",
                "the main difference between `std::vector` and `std::list`",
                "`std::vector` stores elements contiguously with fast random access; "
                "`std::list` is a doubly linked list",
                (
                    "`std::list` supports indexing with `[]`",
                    "`std::vector` cannot grow",
                    "They are different names for the same container",
                ),
                "Because its storage is contiguous, a vector is cache friendly and supports "
                "`v[i]` in constant time. A list inserts or splices anywhere in constant "
                "time given an iterator, but traversal is slower.",
            ),
            _Concept(
                "medium",
                "what happens to iterators into a `std::vector` when `push_back` "
                "causes a reallocation",
                "All iterators, pointers and references to its elements are invalidated",
                (
                    "They are updated automatically",
                    "Only the end iterator is invalidated",
                    "Nothing, because vectors never reallocate",
                ),
                "When capacity is exceeded the vector allocates a larger buffer, moves the "
                "elements and frees the old one. Calling `reserve` first, or re-acquiring "
                "iterators after the insertion, avoids dangling iterators.",
            ),
            _Concept(
                "medium",
                "the lookup complexity of `std::map` compared with `std::unordered_map`",
                "O(log n) for `std::map`, a balanced tree, and O(1) on average for "
                "`std::unordered_map`, a hash table",
                (
                    "O(1) for both",
                    "O(n) for both",
                    "O(log n) for `std::unordered_map` and O(1) for `std::map`",
                ),
                "`std::map` keeps its keys sorted, so in-order iteration is possible. "
                "`std::unordered_map` gives faster average lookups but no ordering, and its "
                "worst case is linear.",
            ),
        ],
    ),
    _Chapter(
        "templates",
        [
            _Task(
                "easy",
                "defines a function template `maxOf` and uses it with the ints $a and "
                "$b and the doubles $radius.5 and $c.25",
                r"""
template <typename T>
T maxOf(T a, T b) {
    return a @[<@|>@] b ? a : b;
}
---
cout << maxOf($a, $b) << "\n";
cout << maxOf($radius.5, $c.25) << "\n";""",
                "The condition is inverted and returns the smaller value; use `a > b`.",
            ),
            _Task(
                "medium",
                "defines a class template `Box<T>` and uses it with the int $c and the "
                'string "$word"',
                r"""
template <typename T>
class Box {
public:
    explicit Box(T value) : value_(value) {}
    T get() const {
        return value_;
    }

private:
    T value_;
};
---
Box<int> number($c);
@[Box<int>@|Box<string>@] text("$word");
cout << number.get() << " " << text.get() << "\n";""",
                "`text` holds a string, so it must be a `Box<string>`.",
                "string",
            ),
            _Task(
                "medium",
                "writes a function template `sumAll` for any container and applies it "
                "to the prices $f1, $f2 and $f3",
                r"""
template <typename Container>
@[int@|typename Container::value_type@] sumAll(const Container &items) {
    typename Container::value_type total{};
    for (const auto &item : items) {
        total += item;
    }
    return total;
}
---
vector<double> prices = {$f1, $f2, $f3};
cout << "Total: " << sumAll(prices) << "\n";""",
                "Returning `int` truncates a sum of doubles; return the container's `value_type`.",
                "vector",
            ),
            _Task(
                "hard",
                "writes a variadic template `printAll` with a fold expression and calls "
                'it with $a, "$word" and $radius.5',
                r"""
template <typename... Args>
void printAll(const Args &...args) {
    @[(cout << args << ' ');@|((cout << args << ' '), ...);@]
    cout << '\n';
}
---
printAll($a, "$word", $radius.5);""",
                "A parameter pack must be expanded, here with the comma fold "
                "`((cout << args << ' '), ...)`.",
            ),
        ],
        [
            _Concept(
                "easy",
                "when the compiler generates code for a function template",
                "When the template is instantiated with concrete types, for example by a call",
                (
                    "When the template is declared",
                    "At run time on the first call",
                    "Only once per program for all types",
                ),
                "A template is a blueprint: `maxOf<int>` and `maxOf<double>` are separate "
                "functions generated on demand. The template arguments are usually deduced "
                "from the call arguments.",
            ),
            _Concept(
                "medium",
                "why template definitions are usually placed in header files",
                "The compiler needs the full definition wherever the template is instantiated",
                (
                    "Templates cannot be compiled into object files",
                    "Header files are compiled faster",
                    "The linker searches headers for templates",
                ),
                "Code for a template is generated only when it is used with specific types, "
                "in the file that uses it. If only a declaration is visible there, the linker "
                "later reports undefined references.",
            ),
            _Concept(
                "hard",
                "what template specialisation is",
                "Providing a separate implementation of a template for specific template arguments",
                (
                    "Restricting a template to a single use",
                    "Marking a template as inline",
                    "Converting a class template into a function template",
                ),
                "A full specialisation such as `template <> struct Printer<bool>` replaces "
                "the generic version for `bool`. Class templates also support partial "
                "specialisation, for example for all pointer types `T*`.",
            ),
        ],
    ),
    _Chapter(
        "exception_handling",
        [
            _Task(
                "easy",
                "throws an exception when dividing $c by zero and catches it",
                r"""
double divide(double a, double b) {
    if (b == 0) {
        throw invalid_argument("division by zero");
    }
    return a / b;
}
---
@[@|try {
    @]cout << divide($c, 0) << "\n";
@[@|} catch (const invalid_argument &error) {
    cout << "Error: " << error.what() << "\n";
}@]""",
                "The exception thrown by `divide` is never caught, so the program terminates; "
                "wrap the call in `try`/`catch`.",
                "stdexcept",
            ),
            _Task(
                "medium",
                'converts the user input "$word" to an int with `std::stoi` and reports '
                "invalid input",
                r"""
try {
    int value = stoi("$word");
    cout << "Value: " << value << "\n";
} catch (const @[out_of_range@|invalid_argument@] &error) {
    cout << "Not a number: " << error.what() << "\n";
}""",
                "`stoi` throws `std::invalid_argument` for non-numeric text; catching only "
                "`out_of_range` lets it escape.",
                "string stdexcept",
            ),
            _Task(
                "medium",
                "throws a custom `InsufficientFunds` exception when withdrawing $over "
                "from a balance of $c",
                r"""
class InsufficientFunds : public runtime_error {
public:
    explicit InsufficientFunds(double missing)
        : runtime_error("short by " + to_string(missing)) {}
};

void withdraw(double &balance, double amount) {
    if (amount > balance) {
        throw InsufficientFunds(amount - balance);
    }
    balance -= amount;
}
---
double balance = $c;
try {
    withdraw(balance, $over);
} catch (const @[runtime_error@|InsufficientFunds@] &error) {
    cout << "Insufficient funds: " << error.what() << "\n";
} catch (const @[InsufficientFunds@|runtime_error@] &error) {
    cout << "Other error: " << error.what() << "\n";
}""",
                "Handlers are tried in order, so the specific `InsufficientFunds` handler must "
                "come before the base `runtime_error` one.",
                "stdexcept string",
            ),
            _Task(
                "hard",
                'uses RAII so that the file "$fname" is closed even when an exception is thrown',
                r"""
class FileGuard {
public:
    explicit FileGuard(const char *path) : file_(fopen(path, "w")) {
        if (file_ == nullptr) {
            throw runtime_error("cannot open file");
        }
    }
    FileGuard(const FileGuard &) = delete;
    FileGuard &operator=(const FileGuard &) = delete;
    @[@|~FileGuard() {
        fclose(file_);
    }
    @]FILE *get() const {
        return file_;
    }

private:
    FILE *file_;
};
---
try {
    FileGuard guard("$fname");
    fputs("started\n", guard.get());
    throw runtime_error("processing failed");
} catch (const exception &error) {
    cout << "Error: " << error.what() << "\n";
}""",
                "Without a destructor the file is never closed when the exception unwinds the "
                "stack; RAII needs `~FileGuard` to call `fclose`.",
                "cstdio stdexcept",
            ),
        ],
        [
            _Concept(
                "easy",
                "why exceptions should be caught by const reference",
                "It avoids copying and prevents slicing of derived exception types",
                (
                    "It makes the exception thread-safe",
                    "Catching by value is a compile error",
                    "It rethrows the exception automatically",
                ),
                "`catch (const std::exception &e)` binds to the thrown object without "
                "copying, so virtual functions such as `what()` report the derived message. "
                "Catching by value slices a derived exception down to the base type.",
            ),
            _Concept(
                "medium",
                "what stack unwinding is",
                "Destroying the local objects of each exited scope while an exception "
                "propagates to a matching handler",
                (
                    "Clearing the call stack when `main` returns",
                    "Reversing the order of function calls",
                    "Freeing all heap memory allocated with `new`",
                ),
                "When an exception leaves a function, destructors run for all fully "
                "constructed local objects of each frame being exited. This is what makes "
                "RAII types release locks, files and memory reliably.",
            ),
            _Concept(
                "hard",
                "what happens if an exception escapes a function declared `noexcept`",
                "`std::terminate` is called and the program ends",
                (
                    "The exception is silently discarded",
                    "The compiler converts it to an error code",
                    "It propagates normally to the caller",
                ),
                "`noexcept` is a promise the compiler and library rely on, for example when "
                "`std::vector` decides to move rather than copy elements. Breaking it is not "
                "caught at compile time; at run time the program is terminated.",
            ),
        ],
    ),
]

# --- Python -----------------------------------------------------------------------------

_PY: list[_Chapter] = [
    _Chapter(
        "basics",
        [
            _Task(
                "easy",
                "reads the user's age and prints how old they will be in $a years",
                r"""
age = @[input("Enter your age: ")@|int(input("Enter your age: "))@]
print(f"In $a years you will be {age + $a}.")""",
                "`input` returns a string; convert it with `int()` before adding a number.",
            ),
            _Task(
                "easy",
                "computes the area of a circle of radius $radius rounded to two decimals",
                r"""
import math

radius = $radius
area = math.pi * radius @[^@|**@] 2
print(f"Area: {area:.2f}")""",
                "`^` is bitwise XOR in Python; exponentiation is `**`.",
            ),
            _Task(
                "medium",
                "swaps the values $a and $b and prints both",
                r"""
x = $a
y = $b
@[x = y
y = x@|x, y = y, x@]
print(f"x = {x}, y = {y}")""",
                "The first assignment overwrites `x` before it is copied; use tuple unpacking.",
            ),
            _Task(
                "medium",
                "prints the integer quotient and the remainder of $c divided by $a",
                r"""
dividend = $c
divisor = $a
quotient = dividend @[/@|//@] divisor
remainder = dividend % divisor
print(f"{dividend} = {divisor} * {quotient} + {remainder}")""",
                "`/` is true division and returns a float; integer division is `//`.",
            ),
        ],
        [
            _Concept(
                "easy",
                "the type of the result of `$a / $b` in Python 3",
                "`float`",
                ("`int`", "`int` when the division is exact, otherwise `float`", "`Fraction`"),
                "In Python 3 the `/` operator always performs true division and returns a "
                "`float`, so `$a / $b` is about $fdiv_ab. Floor division with `//` gives "
                "$div_ab here.",
            ),
            _Concept(
                "easy",
                "what dynamic typing means in Python",
                "Types belong to values, so a variable can refer to objects of different types "
                "over time",
                (
                    "Variables must be declared with a type",
                    "Types are checked at compile time",
                    "A variable's type can never change",
                ),
                "A name is just a reference to an object, and the object carries its type. "
                "Errors such as adding a string to an int are reported at run time, which is "
                "why type hints and checkers such as mypy are popular.",
            ),
            _Concept(
                "medium",
                "the difference between `==` and `is`",
                "`==` compares values, while `is` checks whether both names refer to the same "
                "object",
                (
                    "They are always interchangeable",
                    "`is` compares values and `==` compares identity",
                    "`is` only works with numbers",
                ),
                "Two distinct lists with equal contents are `==` but not `is`. Use `is` "
                "mainly for singletons such as `None`, as in `if x is None:`.",
            ),
        ],
    ),
    _Chapter(
        "control_flow",
        [
            _Task(
                "easy",
                "prints FizzBuzz for the numbers 1 to $n",
                r"""
for i in range(1, $n + 1):
    if i % @[3@|15@] == 0:
        print("FizzBuzz")
    elif i % 3 == 0:
        print("Fizz")
    elif i % 5 == 0:
        print("Buzz")
    else:
        print(i)""",
                "The FizzBuzz case must test divisibility by 15 first; testing 3 prints FizzBuzz "
                "for every multiple of 3.",
            ),
            _Task(
                "easy",
                "prints the multiplication table of $a from 1 to $n",
                r"""
number = $a
for i in range(1, @[$n@|$n + 1@]):
    print(f"{number} x {i} = {number * i}")""",
                "`range` excludes its stop value, so use `$n + 1` to include the last row.",
            ),
            _Task(
                "medium",
                "computes how many years it takes for $c to double at $a percent annual interest",
                r"""
balance = $c
years = 0
while balance < 2 * $c:
    balance *= 1 + $a / 100
    @[@|years += 1@]
print(f"Years needed: {years}")""",
                "`years` is never incremented inside the loop, so the program always prints 0.",
            ),
            _Task(
                "medium",
                "uses a for-else loop to check whether $c is a prime number",
                r"""
number = $c
for divisor in range(2, int(number ** 0.5) + 1):
    if number % divisor == 0:
        print(f"{number} is not prime (divisible by {divisor})")
        break
@[    else:
        print(f"{number} is prime")@|else:
    print(f"{number} is prime")@]""",
                "The `else` must belong to the `for` loop so it runs only when no `break` "
                "happened.",
            ),
        ],
        [
            _Concept(
                "easy",
                "how many numbers `range($n)` produces",
                "$n",
                ("$n_plus", "$n_minus", "An infinite sequence"),
                "`range($n)` starts at 0 and stops before $n, yielding 0 to $n_minus. That is "
                "exactly $n values.",
            ),
            _Concept(
                "medium",
                "when the `else` block of a `for` loop runs",
                "When the loop finishes without hitting `break`",
                (
                    "Only when the loop body never runs",
                    "After every iteration",
                    "Only when an exception occurs",
                ),
                "The `else` clause is skipped if the loop is left with `break`. This makes "
                "search loops concise: `break` when the item is found and handle the "
                "not-found case in `else`.",
            ),
            _Concept(
                "easy",
                "the difference between `break` and `continue`",
                "`break` leaves the loop; `continue` skips to the next iteration",
                (
                    "`continue` leaves the loop; `break` skips an iteration",
                    "Both end the program",
                    "They are only allowed in `while` loops",
                ),
                "`break` ends the innermost loop immediately, skipping its `else` clause. "
                "`continue` abandons only the current iteration and returns to the loop "
                "header.",
            ),
        ],
    ),
    _Chapter(
        "functions",
        [
            _Task(
                "easy",
                "defines a function `average(numbers)` and prints the average of $arr_py",
                r"""
def average(numbers):
    @[sum(numbers) / len(numbers)@|return sum(numbers) / len(numbers)@]


print(f"Average: {average($arr_py):.2f}")""",
                "The function computes the value but never returns it, so it returns `None`.",
            ),
            _Task(
                "medium",
                "defines a function with a default list argument and calls it with "
                '"$word" and "$word2"',
                r"""
def add_item(item, items=@[[]@|None@]):
    @[@|if items is None:
        items = []
    @]items.append(item)
    return items


print(add_item("$word"))
print(add_item("$word2"))""",
                "Default values are evaluated once, so the list is shared between calls; default "
                "to `None` and create the list inside.",
            ),
            _Task(
                "medium",
                "returns the Fibonacci number F($n) using a recursive function memoised "
                "by `functools.lru_cache`",
                r"""
from functools import lru_cache


@lru_cache(maxsize=None)
def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(@[n - 1@|n - 2@])


print(fib($n))""",
                "The Fibonacci recurrence is `fib(n - 1) + fib(n - 2)`.",
            ),
            _Task(
                "hard",
                "writes a decorator `timed` that reports how long a function takes and "
                "applies it to summing `range(${c}000)`",
                r"""
import time
from functools import wraps


def timed(func):
    @wraps(func)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        result = func(*args, **kwargs)
        print(f"{func.__name__} took {time.perf_counter() - start:.6f}s")
        @[@|return result@]
    return wrapper


@timed
def total(limit):
    return sum(range(limit))


print(total(${c}000))""",
                "The wrapper must return `result`; otherwise every decorated function returns "
                "`None`.",
            ),
        ],
        [
            _Concept(
                "easy",
                "what a Python function returns when it has no `return` statement",
                "`None`",
                ("`0`", "An empty string", "The value of its last expression"),
                "Falling off the end of a function returns `None` implicitly. Forgetting "
                "`return` is a common bug that shows up later as an unexpected `None`.",
            ),
            _Concept(
                "medium",
                "what `*args` and `**kwargs` collect in a function definition",
                "Extra positional arguments as a tuple and extra keyword arguments as a dict",
                (
                    "Pointers and references",
                    "Only the first and the last argument",
                    "Arguments that must be integers",
                ),
                "They let a function accept any number of arguments, which is common in "
                "wrappers and decorators. The names are conventions; the `*` and `**` are "
                "what matter.",
            ),
            _Concept(
                "hard",
                "what a closure is",
                "An inner function that remembers variables of its enclosing scope after that "
                "scope has finished",
                (
                    "A function that closes open files",
                    "A function without parameters",
                    "A lambda with a single expression",
                ),
                "When a nested function refers to a variable of its enclosing function, "
                "Python keeps that variable alive in a cell. Closures power decorators and "
                "factory functions, and `nonlocal` is needed to rebind such a variable.",
            ),
        ],
    ),
    _Chapter(
        "data_structures",
        [
            _Task(
                "easy",
                "removes the duplicates from $dup_py while keeping the original order",
                r"""
values = $dup_py
unique = []
seen = set()
for value in values:
    if value not in seen:
        @[@|seen.add(value)
        @]unique.append(value)
print(unique)""",
                "Values must be added to `seen`; otherwise every element looks new and nothing "
                "is removed.",
            ),
            _Task(
                "easy",
                'counts how often each word occurs in "$sentence" using a dictionary',
                r"""
counts = {}
for word in "$sentence".split():
    counts[word] = @[1@|counts.get(word, 0) + 1@]
print(counts)""",
                "Assigning 1 resets the count; use `counts.get(word, 0) + 1`.",
            ),
            _Task(
                "medium",
                "maps each number in $arr_py to its square with a dict comprehension "
                "and prints the pairs whose square exceeds $c",
                r"""
values = $arr_py
squares = {value: value ** 2 for value in values}
for value, square in squares@[@|.items()@]:
    if square > $c:
        print(value, square)""",
                "Iterating a dict yields only its keys; use `.items()` to get key-value pairs.",
            ),
            _Task(
                "hard",
                "builds a 3 x 3 grid of zeros, sets the centre cell to $a and prints the grid",
                r"""
grid = @[[[0] * 3] * 3@|[[0] * 3 for _ in range(3)]@]
grid[1][1] = $a
for row in grid:
    print(row)""",
                "`[[0] * 3] * 3` repeats one inner list three times, so every row changes; build "
                "each row separately.",
            ),
        ],
        [
            _Concept(
                "easy",
                "the difference between a list and a tuple",
                "Lists are mutable, while tuples are immutable",
                (
                    "Tuples can only hold numbers",
                    "Lists cannot be nested",
                    "Tuples are always sorted",
                ),
                "Items can be appended to or changed in a list, but a tuple cannot be modified "
                "after creation. Because of that, tuples of hashable items can be dictionary "
                "keys and are often used for fixed records.",
            ),
            _Concept(
                "medium",
                "why a list cannot be used as a dictionary key",
                "Lists are mutable and therefore unhashable",
                ("Lists are too large", "Dictionary keys must be strings", "Lists are not objects"),
                "Dictionary lookup relies on a key's hash staying the same for its lifetime. "
                "A list's contents can change, so Python refuses to hash it; convert it to a "
                "tuple to use it as a key.",
            ),
            _Concept(
                "easy",
                "the value of `len(set($dup_py))`",
                "$size",
                ("$dup_len", "$size_plus", "$size_minus"),
                "A set stores each distinct value once, so the $dup_len-element list "
                "collapses to $size unique numbers. `len` then counts those unique elements.",
            ),
        ],
    ),
    _Chapter(
        "strings",
        [
            _Task(
                "easy",
                'checks whether "$word" is a palindrome using slicing',
                r"""
word = "$word"
if word == word[@[::1@|::-1@]]:
    print(f"{word} is a palindrome")
else:
    print(f"{word} is not a palindrome")""",
                "`[::-1]` reverses a string; `[::1]` is a plain copy, so every word looks like a "
                "palindrome.",
            ),
            _Task(
                "easy",
                'counts the vowels in "$word"',
                r"""
text = "$word"
vowels = sum(1 for ch in text.lower() if ch @[==@|in@] "aeiou")
print(f"Vowels: {vowels}")""",
                "`==` compares with the whole string; membership is tested with `in`.",
            ),
            _Task(
                "medium",
                'capitalises every word of "$sentence" without using `str.title()`',
                r"""
sentence = "$sentence"
words = [word[0].upper() + word[1:] for word in sentence.split()]
print(@["".join(words)@|" ".join(words)@])""",
                "Joining with an empty string glues the words together; join them with a space.",
            ),
            _Task(
                "medium",
                "replaces every '$word_first' in \"$word\" with '*'",
                r"""
text = "$word"
@[@|text = @]text.replace("$word_first", "*")
print(text)""",
                "Strings are immutable; `replace` returns a new string that must be assigned back.",
            ),
        ],
        [
            _Concept(
                "easy",
                'the value of `"$word"[-1]`',
                "'$word_last'",
                ("'$word_first'", "'$word_second'", "An IndexError"),
                "Negative indices count from the end of the string, so index -1 is the last "
                "character. For \"$word\" that is '$word_last'.",
            ),
            _Concept(
                "medium",
                "why Python strings are immutable and what that implies for methods "
                "such as `replace`",
                "A string cannot be changed in place, so such methods return a new string",
                (
                    "`replace` modifies the original string",
                    "Strings can be changed only inside functions",
                    "Strings are immutable only in Python 2",
                ),
                "Because strings are immutable, `text.replace('a', 'b')` leaves `text` "
                "untouched and returns a new object. Assign the result back, and build long "
                "strings with `''.join(parts)` rather than repeated `+=`.",
            ),
            _Concept(
                "medium",
                'what the f-string `f"{price:.2f}"` produces',
                "The value of `price` formatted as a fixed-point number with two decimals",
                (
                    "The literal text price:.2f",
                    "The value of `price` rounded to an integer",
                    "A syntax error",
                ),
                "Expressions inside braces in an f-string are evaluated and formatted with "
                "the format specification after the colon. `.2f` means fixed-point notation "
                "with two digits after the decimal point, so 3.14159 becomes 3.14.",
            ),
        ],
    ),
    _Chapter(
        "file_io",
        [
            _Task(
                "easy",
                'writes the numbers 1 to $n to "$fname", one per line, using a `with` statement',
                r"""
with open("$fname", @["r"@|"w"@], encoding="utf-8") as handle:
    for i in range(1, $n + 1):
        handle.write(f"{i}\n")""",
                'The file must be opened in write mode "w"; "r" is read-only.',
            ),
            _Task(
                "medium",
                'prints every line of "$fname" numbered from 1, without blank lines in between',
                r"""
with open("$fname", encoding="utf-8") as handle:
    for number, line in enumerate(handle, start=1):
        print(f"{number}: {line@[@|.rstrip()@]}")""",
                "Each line keeps its newline, so printing it adds a blank line; strip it with "
                "`rstrip()`.",
            ),
            _Task(
                "medium",
                'reads "$csvname" (columns $sfield and $nfield) with the `csv` module '
                "and prints the average $nfield",
                r"""
import csv

with open("$csvname", newline="", encoding="utf-8") as handle:
    rows = list(csv.DictReader(handle))
total = sum(@[row["$nfield"]@|float(row["$nfield"])@] for row in rows)
print(f"Average $nfield: {total / len(rows):.2f}")""",
                "CSV values are read as strings; convert them with `float()` before summing.",
            ),
            _Task(
                "hard",
                'saves a dictionary describing a $ent to "$jsonname" as JSON and loads it back',
                r"""
import json

record = {"$sfield": "$sval", "$nfield": $nval}
with open("$jsonname", "w", encoding="utf-8") as handle:
    json.@[dumps@|dump@](record, handle)
with open("$jsonname", encoding="utf-8") as handle:
    loaded = json.load(handle)
print(loaded == record)""",
                "`json.dumps` returns a string and cannot write to a file; `json.dump` does.",
            ),
        ],
        [
            _Concept(
                "easy",
                "why files are usually opened with a `with` statement",
                "The file is closed automatically when the block ends, even if an exception occurs",
                (
                    "It makes reading faster",
                    "It opens the file in binary mode",
                    "It locks the file against other programs",
                ),
                "`with open(...) as handle:` uses the file object as a context manager. Its "
                "`__exit__` method closes the file, so no explicit `close()` or "
                "`try/finally` is needed.",
            ),
            _Concept(
                "medium",
                'the difference between the modes "w", "a" and "x" in `open()`',
                '"w" truncates or creates, "a" appends to the end, and "x" creates a new file '
                "but fails if it exists",
                (
                    '"w" appends, "a" overwrites and "x" executes the file',
                    '"x" opens the file for reading only',
                    "All three overwrite the file",
                ),
                'Use "w" to replace contents, "a" for logs, and "x" to avoid overwriting '
                'existing data, since it raises FileExistsError. Add "b" for binary data, '
                'as in "rb" or "wb".',
            ),
            _Concept(
                "medium",
                'why you should pass `encoding="utf-8"` when opening text files',
                "The default encoding depends on the platform, so an explicit encoding makes "
                "the program behave the same everywhere",
                (
                    "UTF-8 files cannot be opened otherwise",
                    "It makes the file smaller",
                    "It is required for binary files",
                ),
                "Without an explicit encoding Python uses the locale's preferred encoding, "
                "which is not UTF-8 on every system. Reading a file written elsewhere can "
                "then raise UnicodeDecodeError or silently produce wrong characters.",
            ),
        ],
    ),
    _Chapter(
        "oop",
        [
            _Task(
                "easy",
                "defines a class `$Ent` with attributes `$sfield` and `$nfield` and a "
                "`__str__` method",
                r"""
class $Ent:
    def __init__(@[@|self, @]$sfield, $nfield):
        self.$sfield = $sfield
        self.$nfield = $nfield

    def __str__(self):
        return f"$Ent({self.$sfield}, {self.$nfield})"


print($Ent("$sval", $nval))""",
                "Instance methods receive the instance first, so `__init__` must declare `self`.",
            ),
            _Task(
                "medium",
                "defines a `BankAccount` class for $person that raises `ValueError` on "
                "overdraft, then deposits $c and withdraws $a",
                r"""
class BankAccount:
    def __init__(self, owner):
        self.owner = owner
        self.balance = 0

    def deposit(self, amount):
        self.balance += amount

    def withdraw(self, amount):
        if amount > self.balance:
            raise ValueError("insufficient funds")
        @[balance -= amount@|self.balance -= amount@]


account = BankAccount("$person")
account.deposit($c)
account.withdraw($a)
print(f"{account.owner}: {account.balance}")""",
                "Plain `balance` is an unbound local variable; the attribute is `self.balance`.",
            ),
            _Task(
                "medium",
                "uses a class attribute to count how many `$Ent` objects were created "
                "and creates $size of them",
                r"""
class $Ent:
    count = 0

    def __init__(self):
        @[self.count += 1@|$Ent.count += 1@]


items = [$Ent() for _ in range($size)]
print($Ent.count)""",
                "`self.count += 1` creates an instance attribute and leaves the class counter at "
                "0; increment `$Ent.count`.",
            ),
            _Task(
                "hard",
                "uses `@property` with validation so that the $nfield of a `$Ent` can "
                "never be negative",
                r"""
class $Ent:
    def __init__(self, $nfield):
        self.$nfield = $nfield

    @property
    def $nfield(self):
        return self.@[$nfield@|_$nfield@]

    @$nfield.setter
    def $nfield(self, value):
        if value < 0:
            raise ValueError("$nfield cannot be negative")
        self.@[$nfield@|_$nfield@] = value


item = $Ent($nval)
print(item.$nfield)""",
                "Using `self.$nfield` inside the property calls the property again (infinite "
                "recursion); store the value in `self._$nfield`.",
            ),
        ],
        [
            _Concept(
                "easy",
                "what `self` refers to in a method",
                "The instance on which the method was called",
                ("The class itself", "The parent class", "A global configuration object"),
                "`obj.method(x)` is essentially `type(obj).method(obj, x)`, so the instance "
                "arrives as the first parameter. The name `self` is only a convention, but "
                "following it keeps code readable.",
            ),
            _Concept(
                "medium",
                "the difference between a class attribute and an instance attribute",
                "A class attribute is shared by all instances; an instance attribute belongs to "
                "one object",
                (
                    "Class attributes cannot be changed",
                    "Instance attributes are shared by all objects",
                    "There is no difference in Python",
                ),
                "Attributes assigned in the class body live on the class, while those assigned "
                "with `self.x = ...` live on each object. Assigning through `self` creates an "
                "instance attribute that shadows the class attribute.",
            ),
            _Concept(
                "medium",
                "what the `@dataclass` decorator generates for a class",
                "Methods such as `__init__`, `__repr__` and `__eq__` based on the annotated fields",
                (
                    "A database table for the class",
                    "A singleton instance of the class",
                    "Private copies of every attribute",
                ),
                "Declaring fields with type annotations is enough for `dataclasses` to write "
                "the boilerplate. Options such as `frozen=True` or `order=True` add "
                "immutability or comparison methods.",
            ),
        ],
    ),
    _Chapter(
        "modules",
        [
            _Task(
                "easy",
                "imports the `math` module and prints the square root of $c and pi "
                "rounded to $a decimals",
                r"""
@[import math.sqrt@|import math@]

print(math.sqrt($c))
print(round(math.pi, $a))""",
                "`math.sqrt` is a function, not a module; import the module with `import math`.",
            ),
            _Task(
                "medium",
                "prints the sum of $arr_py from `main()`, run only when the file is "
                "executed directly",
                r"""
def total(values):
    return sum(values)


def main():
    print(total($arr_py))


if __name__ == @["main"@|"__main__"@]:
    main()""",
                'When a file is run directly its `__name__` is "__main__", so comparing with '
                '"main" never calls `main()`.',
            ),
            _Task(
                "medium",
                "uses `collections.Counter` to print the $k most common letters in "
                '"$sentence", ignoring spaces',
                r"""
from collections import Counter

letters = Counter(@["$sentence"@|ch for ch in "$sentence" if ch.isalpha()@])
for letter, count in letters.most_common($k):
    print(letter, count)""",
                "Counting the raw string also counts spaces; keep only letters with "
                "`ch.isalpha()`.",
            ),
            _Task(
                "hard",
                "uses `argparse` to read a `--count` option (default $n) and prints that "
                "many greetings",
                r"""
import argparse


def main():
    parser = argparse.ArgumentParser(description="Print greetings.")
    parser.add_argument("--count", type=int, default=$n)
    args = parser.parse_args()
    for _ in range(@[args["count"]@|args.count@]):
        print("Hello!")


if __name__ == "__main__":
    main()""",
                "`parse_args` returns a Namespace, so options are attributes (`args.count`), not "
                "dictionary keys.",
            ),
        ],
        [
            _Concept(
                "easy",
                'what the `if __name__ == "__main__":` guard is used for',
                "To run code only when the file is executed directly, not when it is imported",
                (
                    "To define the program's entry point for the compiler",
                    "To prevent the module from being imported",
                    "To declare global variables",
                ),
                'When a file is run as a script its `__name__` is "__main__", but when '
                "imported it is the module name. Start-up code under the guard lets other "
                "modules import the file's functions without side effects.",
            ),
            _Concept(
                "medium",
                "the difference between `import math` and `from math import sqrt`",
                "`import math` binds the module name, while `from math import sqrt` binds only "
                "the name `sqrt`",
                (
                    "`from math import sqrt` loads only part of the module",
                    "`import math` copies every function into the current namespace",
                    "They are identical",
                ),
                "With `import math` you write `math.sqrt(x)`, which keeps the origin of the "
                "name obvious. With `from math import sqrt` you call `sqrt(x)` directly, but "
                "`math` itself is not defined; the whole module is loaded either way.",
            ),
            _Concept(
                "medium",
                "what makes a directory a regular package and what `__init__.py` is for",
                "A directory with `__init__.py` is a regular package; the file runs on first "
                "import and can expose the package's API",
                (
                    "`__init__.py` lists the files to compile",
                    "It is required in every directory on `sys.path`",
                    "It only stores the package's version number",
                ),
                "Importing `pkg` executes `pkg/__init__.py` once, and its names become "
                "attributes of the package. Directories without it can still be imported as "
                "namespace packages, but regular packages remain the norm.",
            ),
        ],
    ),
]

_CURRICULUM: dict[str, list[_Chapter]] = {"c": _C, "cpp": _CPP, "python": _PY}

# --- rendering --------------------------------------------------------------------------

_MARKER = re.compile(r"@\[(.*?)@\|(.*?)@\]", re.DOTALL)
_GONE = "\x00"  # stands in for an empty marker side; lines left holding only it are dropped


def _draw_params(rng: random.Random) -> dict[str, str]:
    """Draw one set of template parameters."""
    a, b = rng.sample(range(2, 13), 2)
    c, c2 = rng.sample(range(20, 100), 2)
    n = rng.randint(5, 20)
    size = rng.randint(5, 8)
    values = rng.sample(range(1, 100), size)
    ordered = sorted(values)
    k = rng.randint(1, size - 2)
    i, j = sorted(rng.sample(range(size), 2))
    dup = values + rng.sample(values, 2)
    rng.shuffle(dup)
    word, word2 = rng.sample(_WORDS, 2)
    ent, sfield, nfield, sval, nval = rng.choice(_ENTITIES)
    person, person2, person3 = rng.sample(_PEOPLE, 3)
    animal, sound = rng.choice(_ANIMALS)
    ana1, ana2 = rng.choice(_WORD_PAIRS)
    fname = rng.choice(_FILES)
    f1, f2, f3 = (f"{rng.randint(100, 9999) / 10:.1f}" for _ in range(3))
    raw: dict[str, object] = {
        "a": a,
        "b": b,
        "c": c,
        "c2": c2,
        "over": c + c2,
        "n": n,
        "n_plus": n + 1,
        "n_minus": n - 1,
        "size": size,
        "size_plus": size + 1,
        "size_minus": size - 1,
        "size_bytes": 4 * size,
        "arr_c": "{" + ", ".join(map(str, values)) + "}",
        "arr_py": str(values),
        "sorted_c": "{" + ", ".join(map(str, ordered)) + "}",
        "target": rng.choice(ordered),
        "k": k,
        "k_plus": k + 1,
        "arr_k": values[k],
        "arr_k_next": values[k + 1],
        "arr_k_prev": values[k - 1],
        "arr0_plus_k": values[0] + k,
        "pair_sum": values[i] + values[j],
        "dup_py": str(dup),
        "dup_len": len(dup),
        "word": word,
        "word2": word2,
        "word_len": len(word),
        "word_len_plus": len(word) + 1,
        "word_len_minus": len(word) - 1,
        "word_first": word[0],
        "word_second": word[1],
        "word_last": word[-1],
        "ent": ent,
        "Ent": ent.capitalize(),
        "sfield": sfield,
        "nfield": nfield,
        "sval": sval,
        "nval": nval,
        "f1": f1,
        "f2": f2,
        "f3": f3,
        "person": person,
        "person2": person2,
        "person3": person3,
        "Animal": animal,
        "sound": sound,
        "Vehicle": rng.choice(_VEHICLES),
        "ana1": ana1,
        "ana2": ana2,
        "fname": fname,
        "bname": fname.replace(".txt", ".bin"),
        "csvname": f"{ent}s.csv",
        "jsonname": f"{ent}.json",
        "sentence": rng.choice(_SENTENCES),
        "num": rng.randint(100, 99999),
        "year": rng.randint(1900, 2100),
        "temp": rng.randint(-20, 45),
        "radius": rng.randint(2, 15),
        "dim": rng.randint(3, 6),
        "light": rng.choice("RYG"),
        "salary": rng.randint(30, 120) * 1000,
        "bonus": rng.randint(2, 20) * 500,
        "div_ab": a // b,
        "mod_ab": a % b,
        "fdiv_ab": f"{a / b:.2f}",
        "tern": a - b if a > b else a + b,
        "tern_other": a + b if a > b else a - b,
        "sq_bug": 2 * a + 1,
        "sq_ok": (a + 1) ** 2,
        "a_sq1": a * a + 1,
    }
    return {key: str(value) for key, value in raw.items()}


def _fill(text: str, params: dict[str, str]) -> str:
    """Substitute ``$placeholders`` (a missing one is a template bug and raises)."""
    return Template(text).substitute(params)


def _resolve(code: str, fixed: bool) -> str:
    """Pick the buggy or the fixed side of every ``@[buggy@|fixed@]`` marker."""

    def pick(match: re.Match[str]) -> str:
        return match.group(2 if fixed else 1) or _GONE

    text = _MARKER.sub(pick, code.strip("\n"))
    lines = [line for line in text.split("\n") if line.strip() != _GONE]
    return "\n".join(lines).replace(_GONE, "")


def _render_code(language: str, task: _Task, params: dict[str, str], fixed: bool) -> str:
    """The complete source of a task, buggy or fixed."""
    code = _fill(_resolve(task.code, fixed), params)
    if language == "python":
        return code
    top, sep, body = code.partition("\n---\n")
    if not sep:
        top, body = "", code
    if language == "c":
        headers, preamble, main = ["stdio.h"], [], "int main(void) {"
    else:
        headers, preamble, main = ["iostream"], ["using namespace std;"], "int main() {"
    headers += task.headers.split()
    parts = ["\n".join(f"#include <{header}>" for header in headers), *preamble]
    if top:
        parts.append(top)
    body_lines = [f"    {line}" if line else "" for line in body.split("\n")]
    parts.append("\n".join([main, *body_lines, "    return 0;", "}"]))
    return "\n\n".join(parts)


def _build(
    rng: random.Random, language: str, chapter: _Chapter, qtype: str
) -> tuple[str, str, str] | None:
    """One candidate (question, answer, base difficulty); None if the draw is unusable."""
    params = _draw_params(rng)
    lang = _LANGUAGE_NAMES[language]
    if qtype in ("program", "debug"):
        task = rng.choice(chapter.tasks)
        goal = _fill(task.goal, params)
        solution = _render_code(language, task, params, fixed=True)
        if qtype == "program":
            question = rng.choice(_PROGRAM_STEMS).format(lang=lang, goal=goal)
            return question, solution, task.difficulty
        buggy = _render_code(language, task, params, fixed=False)
        stem = rng.choice(_DEBUG_STEMS).format(lang=lang, goal=goal)
        answer = f"{solution}\n\nFix: {_fill(task.fix, params)}"
        return f"{stem}\n\n{buggy}", answer, task.difficulty
    concept = rng.choice(chapter.concepts)
    topic = _fill(concept.topic, params)
    explanation = _fill(concept.explanation, params)
    if qtype == "theory":
        question = rng.choice(_THEORY_STEMS).format(lang=lang, topic=topic)
        return question, explanation, concept.difficulty
    correct = _fill(concept.correct, params)
    options = [correct, *(_fill(wrong, params) for wrong in concept.wrong)]
    if len(set(options)) != len(options):
        return None
    rng.shuffle(options)
    letters = "ABCD"
    stem = rng.choice(_MCQ_STEMS).format(lang=lang, topic=topic)
    labelled = zip(letters, options, strict=True)
    lines = [stem, *(f"{letter}) {option}" for letter, option in labelled)]
    answer = f"{letters[options.index(correct)]}) {correct} {_EM_DASH} {explanation}"
    return "\n".join(lines), answer, concept.difficulty


def _jitter(rng: random.Random, difficulty: str) -> str:
    """Usually the template's difficulty, sometimes one level easier or harder."""
    index = _DIFFICULTIES.index(difficulty)
    roll = rng.random()
    if roll < 0.15:
        index -= 1
    elif roll < 0.30:
        index += 1
    return _DIFFICULTIES[min(max(index, 0), len(_DIFFICULTIES) - 1)]


def _chapter_sizes(rng: random.Random, chapters: int, total: int) -> list[int]:
    """Split ``total`` over ``chapters``: roughly even, with a little deterministic jitter."""
    base = total // chapters
    spread = max(base // 8, 0)
    sizes = [base + rng.randint(-spread, spread) for _ in range(chapters)]
    diff = total - sum(sizes)
    step = 1 if diff > 0 else -1
    for index in range(abs(diff)):
        sizes[index % chapters] += step
    return sizes


def _make_sample(
    rng: random.Random, language: str, chapter: _Chapter, seen: set[str]
) -> tuple[str, str, str, str]:
    """(type, difficulty, question, answer), avoiding questions already in ``seen``."""
    qtype = rng.choices(_TYPES, weights=_TYPE_WEIGHTS)[0]
    fallback: tuple[str, str, str] | None = None
    attempts = 0
    while True:
        attempts += 1
        built = _build(rng, language, chapter, qtype)
        if built is not None:
            fallback = built
            if built[0] not in seen or attempts >= _MAX_ATTEMPTS:
                break
        elif attempts >= 10 * _MAX_ATTEMPTS:
            raise RuntimeError(f"cannot build a {qtype} sample for {language}/{chapter.area}")
    question, answer, difficulty = fallback
    seen.add(question)
    return qtype, _jitter(rng, difficulty), question, answer


def generate_samples(seed: int = 42) -> list[dict[str, object]]:
    """Return the 5,000 demo samples, deterministic for a given seed.

    Each sample is a dict with exactly the pre-migration keys ``sample_id``, ``chapter``,
    ``type``, ``difficulty``, ``question`` and ``answer``. Sample ids look like
    ``c_ch6_q_000123``: the language prefix, the chapter, and a per-language running
    counter starting at 1. Only a private ``random.Random(seed)`` is used, so the output
    is identical across runs and processes.
    """
    rng = random.Random(seed)
    samples: list[dict[str, object]] = []
    for language, (prefix, chapter_count, total) in LANGUAGE_PLAN.items():
        chapters = _CURRICULUM[language]
        if len(chapters) != chapter_count:
            raise RuntimeError(f"{language}: curriculum has {len(chapters)} chapters")
        seen: set[str] = set()
        counter = 0
        for number, size in enumerate(_chapter_sizes(rng, chapter_count, total), start=1):
            for _ in range(size):
                counter += 1
                qtype, difficulty, question, answer = _make_sample(
                    rng, language, chapters[number - 1], seen
                )
                samples.append(
                    {
                        "sample_id": f"{prefix}_ch{number}_q_{counter:06d}",
                        "chapter": number,
                        "type": qtype,
                        "difficulty": difficulty,
                        "question": question,
                        "answer": answer,
                    }
                )
    return samples
