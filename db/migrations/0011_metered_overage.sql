CREATE TABLE "meter_event_outbox" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"stripe_customer_id" text NOT NULL,
	"event_name" text NOT NULL,
	"tokens" integer NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"sent_at" timestamp with time zone,
	"failed_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "stripe_overage_lookup_key" text;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "overage_cap_cents" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "meter_event_outbox" ADD CONSTRAINT "meter_event_outbox_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "meter_event_outbox_due_idx" ON "meter_event_outbox" USING btree ("next_attempt_at");