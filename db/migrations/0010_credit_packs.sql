CREATE TABLE "credit_packs" (
	"payment_intent_id" text PRIMARY KEY NOT NULL,
	"checkout_session_id" text NOT NULL,
	"user_id" text NOT NULL,
	"pack_id" text NOT NULL,
	"tokens" integer NOT NULL,
	"amount_cents" integer NOT NULL,
	"currency" text NOT NULL,
	"purchased_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"granted_at" timestamp with time zone,
	"refunded_at" timestamp with time zone,
	CONSTRAINT "credit_packs_checkout_session_id_unique" UNIQUE("checkout_session_id")
);
--> statement-breakpoint
ALTER TABLE "credit_packs" ADD CONSTRAINT "credit_packs_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "credit_packs_user_idx" ON "credit_packs" USING btree ("user_id","purchased_at");