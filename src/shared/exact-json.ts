// JSON from clients (request bodies, live frames), parsed so that whatever is accepted comes back exactly
// as sent. JSON.parse alone loses numbers silently: 1e400 becomes Infinity (stored as null), 2^53+1 its
// neighbour 2^53, -0 plain 0, 1e-400 zero. And it accepts any nesting, while the steps a message takes
// afterwards (the structured clone of a call to a Durable Object, JSON.parse's own reviver pass, hashing)
// recurse and overflow the stack at a few thousand levels, well within MESSAGE_MAX_BYTES.

/** How many levels of objects and arrays one field of a body or frame may nest; the field's own is the first. */
export const MAX_FIELD_DEPTH = 32;
/** The body's own object is one level more. */
const MAX_DEPTH = MAX_FIELD_DEPTH + 1;

export type JsonIssue = { path: string; message: string };
export type ExactJson = { value: unknown } | { issues: JsonIssue[] };

/** A number whose text does not survive the trip through a double; it stands in for it until reported. */
class InexactNumber {
  constructor(readonly source: string) {}
}

/**
 * Parses `text` (a SyntaxError when it is not JSON): its value, or the fields that could not come back
 * exactly. Each number must be the decimal value its double prints as, and each field must nest at most
 * MAX_FIELD_DEPTH levels.
 */
export function parseExactJson(text: string): ExactJson {
  // Measured on the text, so that nothing recursive ever sees a deeper value. Only to name the field is
  // such a text parsed, by V8's parser, which does not recurse, and without a reviver, whose pass does.
  if (nestsDeeperThan(text, MAX_DEPTH)) return { issues: [tooDeep(JSON.parse(text))] };
  let inexact = false;
  const value: unknown = JSON.parse(text, (_key, value: unknown, context?: { source?: string }) => {
    if (typeof value !== "number" || sameDecimal(context!.source!, String(value))) return value;
    inexact = true;
    return new InexactNumber(context!.source!);
  });
  return inexact ? { issues: inexactNumbers(value) } : { value };
}

/** Whether brackets outside strings nest deeper than `limit`: exact for any JSON text, and one pass. */
function nestsDeeperThan(text: string, limit: number) {
  let depth = 0;
  let inString = false;
  for (let at = 0; at < text.length; at++) {
    const char = text[at];
    if (inString) {
      if (char === "\\") at++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === "{" || char === "[") {
      if (++depth > limit) return true;
    } else if (char === "}" || char === "]") depth--;
  }
  return false;
}

/**
 * Two decimal spellings name the same value when their sign, significant digits and exponent agree
 * (1.50 and 15e-1 do; -0 and 0 do not, since -0 would come back as 0). "Infinity", which is what a
 * number too large for a double prints as, matches no JSON number.
 */
function sameDecimal(source: string, printed: string) {
  const normal = normalDecimal(source);
  return normal !== null && normal === normalDecimal(printed);
}

function normalDecimal(text: string) {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) return null;
  const [, sign, whole, fraction = "", exponent = "0"] = match;
  const digits = whole! + fraction;
  let first = 0;
  while (digits[first] === "0") first++;
  let end = digits.length;
  while (end > first && digits[end - 1] === "0") end--;
  if (first === end) return `${sign}0`;
  // An exponent too large for a double to hold exactly belongs to a number that prints as 0 or
  // Infinity, whose digits differ anyway.
  return `${sign}${digits.slice(first, end)}e${Number(exponent) - fraction.length + (digits.length - end)}`;
}

type Visit = { value: unknown; key?: string; parent?: Visit; depth: number };

/** Every value inside `root`, in document order, with an explicit stack: the value may nest thousands of levels. */
function* visit(root: unknown): Generator<Visit> {
  const stack: Visit[] = [{ value: root, depth: 1 }];
  for (let node = stack.pop(); node; node = stack.pop()) {
    yield node;
    if (isContainer(node.value)) {
      const entries = Object.entries(node.value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, value] = entries[i]!;
        stack.push({ value, key, parent: node, depth: node.depth + 1 });
      }
    }
  }
}

const isContainer = (value: unknown): value is object =>
  typeof value === "object" && value !== null && !(value instanceof InexactNumber);

function keysTo(node: Visit) {
  const keys: string[] = [];
  for (let at: Visit | undefined = node; at?.key !== undefined; at = at.parent) keys.push(at.key);
  return keys.reverse();
}

/** The issue of a too deep value: it names the field of the body that holds the deep part. */
function tooDeep(value: unknown): JsonIssue {
  for (const node of visit(value)) {
    if (isContainer(node.value) && node.depth > MAX_DEPTH) {
      return { path: keysTo(node)[0]!, message: `must nest at most ${MAX_FIELD_DEPTH} levels of objects and arrays` };
    }
  }
  throw new Error("nestsDeeperThan and visit disagree on the depth");
}

function inexactNumbers(value: unknown): JsonIssue[] {
  const issues: JsonIssue[] = [];
  for (const node of visit(value)) {
    if (!(node.value instanceof InexactNumber)) continue;
    const { source } = node.value;
    const shown = source.length > 40 ? `${source.slice(0, 40)}…` : source;
    issues.push({
      path: keysTo(node).join("."),
      message: `the number ${shown} cannot be kept exactly: it would come back as ${JSON.stringify(Number(source))}`,
    });
  }
  return issues;
}
