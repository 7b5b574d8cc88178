import { handleTrpcGet, handleTrpcPost } from "@/server/api/http";
import { withRequestId } from "@/server/ops/request-context";

// Queries: GET, batched at most 10. Mutations: POST, one per request, same-origin JSON of at most 64 kB.
// The proxy does not run here (it would buffer request bodies), so the route sets its own request id.
export const GET = (request: Request) => withRequestId(request, () => handleTrpcGet(request));
export const POST = (request: Request) => withRequestId(request, () => handleTrpcPost(request));
