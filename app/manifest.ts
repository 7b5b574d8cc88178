import type { MetadataRoute } from "next";

// The web app manifest: the name and icons a phone uses when the app is added to the home screen.
export default function manifest(): MetadataRoute.Manifest {
  return {
    name: "Hourglass",
    short_name: "Hourglass",
    description: "A Next.js SaaS starter with Stripe billing you can trust and a metered AI chat.",
    start_url: "/",
    display: "standalone",
    background_color: "#fafaf9",
    theme_color: "#1c1917",
    icons: [
      { src: "/icon-192.png", sizes: "192x192", type: "image/png" },
      { src: "/icon-512.png", sizes: "512x512", type: "image/png" },
    ],
  };
}
