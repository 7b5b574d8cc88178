// The password length bounds, shared by the server's policy (server/auth/password-policy.ts) and the forms' hints
// and input attributes, so the two cannot drift apart.
export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 128;
