// Bundled in place of zod (see wrangler.toml [alias]). hono-openapi's schema
// converters import each schema library they support on first use; postbox
// documents valibot schemas only, and zod, installed for the test tooling,
// would otherwise be bundled whole (~700 KB) and never run.
export {};
