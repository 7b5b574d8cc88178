import { handleTrpcGet, handleTrpcPost } from "@/server/api/http";

// Queries: GET, batched at most 10. Mutations: POST, one per request, same-origin JSON of at most 64 kB.
export const GET = (request: Request) => handleTrpcGet(request);
export const POST = (request: Request) => handleTrpcPost(request);
