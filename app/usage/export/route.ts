// GET /usage/export: the signed-in user's usage history as a CSV download (the same figures as /usage).
import { getSessionUserId } from "@/server/auth";
import { getUsageHistory, usageCsv } from "@/server/chat/usage-history";
import { AppError, errorResponse } from "@/server/errors";

export async function GET(): Promise<Response> {
  try {
    const userId = await getSessionUserId();
    if (!userId) throw new AppError("UNAUTHORIZED", "Sign in to download your usage.");
    const csv = usageCsv(await getUsageHistory(userId));
    const day = new Date().toISOString().slice(0, 10);
    return new Response(csv, {
      headers: {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="hourglass-usage-${day}.csv"`,
        "cache-control": "private, no-store",
      },
    });
  } catch (error) {
    return errorResponse(error);
  }
}
