import { signIn, oauthProviders } from "@/server/auth";

/** Sign-in buttons for the OAuth providers whose variables are set; nothing when none are. */
export function OAuthButtons({ callbackUrl }: { callbackUrl: string }) {
  if (oauthProviders.length === 0) return null;
  return (
    <div className="mt-4 space-y-2">
      {oauthProviders.map((provider) => (
        <form
          key={provider.id}
          action={async () => {
            "use server";
            await signIn(provider.id, { redirectTo: callbackUrl });
          }}
        >
          <button type="submit" className="btn-secondary w-full">Continue with {provider.name}</button>
        </form>
      ))}
    </div>
  );
}
