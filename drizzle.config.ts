import { defineConfig } from "drizzle-kit";

// drizzle-kit reads DATABASE_URL itself for migrate/studio; `generate` needs no database.
export default defineConfig({
  dialect: "postgresql",
  schema: "./db/schema.ts",
  out: "./db/migrations",
  dbCredentials: { url: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres" },
  strict: true,
});
