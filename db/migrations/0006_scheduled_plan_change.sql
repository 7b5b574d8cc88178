ALTER TABLE "users" ADD COLUMN "scheduled_plan_id" text;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "scheduled_plan_at" timestamp with time zone;