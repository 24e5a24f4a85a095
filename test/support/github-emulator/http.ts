/** Request context, route table matching, GitHub-style errors, body validation and pagination. */
import type { IncomingHttpHeaders } from "node:http";
import type { EmulatorState, Identity } from "./state.ts";

export const DOCS_URL = "https://docs.github.com/rest";

export type Auth =
  | { kind: "anonymous" }
  | { kind: "jwt" }
  | { kind: "token"; token: string; identity: Identity }
  | { kind: "invalid" };

/** Bases for URLs in responses: `api` keeps the `/api/v3` prefix when the request used it. */
export interface Urls {
  api: string;
  web: string;
}

export interface Ctx {
  state: EmulatorState;
  method: string;
  /** Path without the `/api/v3` prefix and without the query string. */
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  headers: IncomingHttpHeaders;
  auth: Auth;
  urls: Urls;
  /** The request's full URL, used to build `Link` headers. */
  requestUrl: URL;
}

export interface Reply {
  status?: number;
  body?: unknown;
  /** A non-JSON body (e.g. raw file contents). */
  raw?: { data: Buffer; contentType: string };
  headers?: Record<string, string>;
}

export type Handler = (ctx: Ctx) => Reply;

export interface Route {
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  /** `:name` matches one segment, `*name` the rest (slashes included). */
  pattern: string;
  handler: Handler;
  /**
   * "jwt": an app endpoint (needs the app's JWT); "any": accepts every credential; default:
   * a token or anonymous, and a JWT is refused.
   */
  auth?: "jwt" | "any";
}

export interface ValidationError {
  resource: string;
  field?: string;
  code: "missing_field" | "missing" | "invalid" | "already_exists" | "custom";
  message?: string;
}

export class HttpError extends Error {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(status: number, message: string, extra: Record<string, unknown> = {}, headers = {}) {
    super(message);
    this.status = status;
    this.body = { message, documentation_url: DOCS_URL, status: String(status), ...extra };
    this.headers = headers;
  }
}

export const notFound = (): HttpError => new HttpError(404, "Not Found");

export function validationFailed(errors: ValidationError[]): HttpError {
  return new HttpError(422, "Validation Failed", { errors });
}

export function invalid(resource: string, field: string, message: string): HttpError {
  return validationFailed([{ resource, field, code: "custom", message }]);
}

// ---------------------------------------------------------------------------------------------
// Route table

export interface CompiledRoute extends Route {
  regex: RegExp;
  names: string[];
}

function escapeRegex(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
}

export function compileRoutes(routes: Route[]): CompiledRoute[] {
  return routes.map((route) => {
    const names: string[] = [];
    const source = route.pattern
      .split("/")
      .map((segment) => {
        if (segment.startsWith(":")) {
          names.push(segment.slice(1));
          return "([^/]+)";
        }
        if (segment.startsWith("*")) {
          names.push(segment.slice(1));
          return "(.+)";
        }
        return escapeRegex(segment);
      })
      .join("/");
    return { ...route, regex: new RegExp(`^${source}$`), names };
  });
}

export function matchRoute(
  routes: CompiledRoute[],
  method: string,
  path: string,
): { route: CompiledRoute; params: Record<string, string> } | undefined {
  for (const route of routes) {
    if (route.method !== method) continue;
    const m = route.regex.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    route.names.forEach((name, i) => {
      params[name] = decodeURIComponent(m[i + 1] ?? "");
    });
    return { route, params };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Body validation

type Kind = "string" | "number" | "boolean" | "object" | "array" | "string|null";
type Spec = Record<string, Kind | `${Kind}?`>;
type KindType<K extends string> = K extends "string"
  ? string
  : K extends "number"
    ? number
    : K extends "boolean"
      ? boolean
      : K extends "object"
        ? Record<string, unknown>
        : K extends "array"
          ? unknown[]
          : K extends "string|null"
            ? string | null
            : never;
export type Parsed<S extends Spec> = {
  [P in keyof S]: S[P] extends `${infer K}?`
    ? KindType<K> | undefined
    : S[P] extends string
      ? KindType<S[P]>
      : never;
};

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function hasKind(value: unknown, kind: Kind): boolean {
  switch (kind) {
    case "array":
      return Array.isArray(value);
    case "object":
      return isRecord(value);
    case "string|null":
      return value === null || typeof value === "string";
    default:
      return typeof value === kind;
  }
}

/** Checks `value` against `spec` and returns it typed; GitHub's 422 "Validation Failed" otherwise. */
export function parseFields<const S extends Spec>(value: unknown, resource: string, spec: S): Parsed<S> {
  if (!isRecord(value)) {
    throw validationFailed([
      { resource, code: "invalid", message: "The request body must be a JSON object." },
    ]);
  }
  const errors: ValidationError[] = [];
  for (const [field, declared] of Object.entries(spec)) {
    const optional = declared.endsWith("?");
    const kind = (optional ? declared.slice(0, -1) : declared) as Kind;
    const v = value[field];
    if (v === undefined) {
      if (!optional) errors.push({ resource, field, code: "missing_field" });
    } else if (!hasKind(v, kind)) {
      errors.push({ resource, field, code: "invalid", message: `${field} must be of type ${kind}` });
    }
  }
  if (errors.length > 0) throw validationFailed(errors);
  return value as Parsed<S>;
}

export function parseBody<const S extends Spec>(ctx: Ctx, resource: string, spec: S): Parsed<S> {
  return parseFields(ctx.body ?? {}, resource, spec);
}

// ---------------------------------------------------------------------------------------------
// Query parameters and pagination

export function intParam(ctx: Ctx, name: string, fallback: number): number {
  const raw = ctx.query.get(name);
  const n = raw === null ? Number.NaN : Number.parseInt(raw, 10);
  return Number.isFinite(n) ? n : fallback;
}

export function pathNumber(ctx: Ctx, name: string): number {
  const raw = ctx.params[name] ?? "";
  if (!/^\d+$/.test(raw)) throw notFound();
  return Number(raw);
}

function pageUrl(ctx: Ctx, page: number): string {
  const url = new URL(ctx.requestUrl);
  url.searchParams.set("page", String(page));
  return url.toString();
}

/** One page of `items` (`per_page` default 30, max 100) with GitHub's `Link` header. */
export function paginate<T>(ctx: Ctx, items: T[]): { items: T[]; headers: Record<string, string> } {
  const perPage = Math.min(100, Math.max(1, intParam(ctx, "per_page", 30)));
  const page = Math.max(1, intParam(ctx, "page", 1));
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const links: string[] = [];
  if (page > 1) links.push(`<${pageUrl(ctx, Math.min(page - 1, last))}>; rel="prev"`);
  if (page < last)
    links.push(`<${pageUrl(ctx, page + 1)}>; rel="next"`, `<${pageUrl(ctx, last)}>; rel="last"`);
  if (page > 1) links.push(`<${pageUrl(ctx, 1)}>; rel="first"`);
  const headers: Record<string, string> = links.length > 0 ? { link: links.join(", ") } : {};
  return { items: items.slice((page - 1) * perPage, page * perPage), headers };
}

export function pageReply<T>(ctx: Ctx, items: T[], render: (item: T) => unknown): Reply {
  const { items: pageItems, headers } = paginate(ctx, items);
  return { body: pageItems.map(render), headers };
}
