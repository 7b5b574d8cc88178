"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import type { RouterOutputs } from "@/lib/trpc/client";
import { signOutAction } from "../auth-actions";
import { loadSession } from "./session-query";

type SessionUser = RouterOutputs["account"]["session"]["user"];

const pageLinks = [
  { href: "/pricing", label: "Pricing" },
  { href: "/chat", label: "Chat" },
] as const;

/**
 * The header's links. From 640 px: Pricing and Chat, then the account (the email, linking to /account) and Sign out,
 * or Sign in and Sign up. Below: Sign in when signed out, and a Menu button opening every link in a panel under the
 * header (Escape or a second press closes it and gives focus back to the button; following a link closes it).
 */
export function SessionNav() {
  // undefined while loading, null when signed out. Sign-in and sign-out reload the page, so once is enough.
  const [user, setUser] = useState<SessionUser | null | undefined>(undefined);
  const [menuOpen, setMenuOpen] = useState(false);
  const pathname = usePathname();
  const menuButton = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);

  useEffect(() => {
    let live = true;
    loadSession()
      .then((session) => live && setUser(session?.user ?? null))
      // The header is not the place to report an outage; offer sign-in, which reports it properly.
      .catch(() => live && setUser(null));
    return () => {
      live = false;
    };
  }, []);

  // A page change (a link followed in the menu, or back/forward) changes the page, not the header: close the panel.
  const [openedOn, setOpenedOn] = useState(pathname);
  if (menuOpen && openedOn !== pathname) setMenuOpen(false);

  // A press anywhere outside the header closes the menu, as it would a native one.
  useEffect(() => {
    if (!menuOpen) return;
    const onPointerDown = (event: PointerEvent) => {
      const target = event.target as Node;
      if (!panel.current?.contains(target) && !menuButton.current?.contains(target)) setMenuOpen(false);
    };
    document.addEventListener("pointerdown", onPointerDown);
    return () => document.removeEventListener("pointerdown", onPointerDown);
  }, [menuOpen]);

  const toggleMenu = () => {
    setOpenedOn(pathname);
    setMenuOpen((open) => !open);
  };
  const onMenuKeyDown = (event: KeyboardEvent) => {
    if (event.key === "Escape" && menuOpen) {
      setMenuOpen(false);
      menuButton.current?.focus();
    }
  };

  const current = (href: string) => (pathname === href || pathname.startsWith(`${href}/`) ? "page" : undefined);

  return (
    <div className="flex min-w-0 flex-1 items-center gap-4" onKeyDown={onMenuKeyDown}>
      <div className="hidden items-center gap-4 text-sm font-medium text-stone-600 sm:flex">
        {pageLinks.map((link) => (
          <Link key={link.href} href={link.href} aria-current={current(link.href)} className="hover:text-stone-900 aria-[current=page]:text-stone-900">
            {link.label}
          </Link>
        ))}
      </div>

      <div className="ml-auto flex min-w-0 items-center gap-2 text-sm sm:gap-3">
        {user === undefined ? (
          <span className="inline-block h-9 w-20 sm:w-40" aria-hidden="true" />
        ) : user ? (
          <>
            <Link
              href="/account"
              aria-current={current("/account")}
              title={user.email}
              className="hidden min-w-0 truncate font-medium text-stone-700 hover:text-stone-900 sm:block sm:max-w-[16rem] lg:max-w-xs"
              data-testid="session-email"
            >
              {user.email}
            </Link>
            <SignOutButton className="btn-secondary hidden sm:inline-flex" />
          </>
        ) : (
          <>
            <Link href="/sign-in" className="btn-secondary">Sign in</Link>
            <Link href="/sign-up" className="btn-primary hidden sm:inline-flex">Sign up</Link>
          </>
        )}
        <button
          ref={menuButton}
          type="button"
          className="btn-secondary px-2.5 sm:hidden"
          aria-expanded={menuOpen}
          aria-controls="mobile-menu"
          onClick={toggleMenu}
          data-testid="menu-button"
        >
          <MenuIcon open={menuOpen} />
          <span className="sr-only">Menu</span>
        </button>
      </div>

      <div
        ref={panel}
        id="mobile-menu"
        hidden={!menuOpen}
        className="absolute inset-x-0 top-full z-20 border-b border-stone-200 bg-white shadow-lg sm:hidden"
        // Following a link closes the menu even when it leads to the page already open.
        onClick={(event) => {
          if ((event.target as Element).closest("a")) setMenuOpen(false);
        }}
      >
        <ul className="flex flex-col px-2 py-2 text-base font-medium">
          {pageLinks.map((link) => (
            <li key={link.href}>
              <Link href={link.href} aria-current={current(link.href)} className={menuItem}>{link.label}</Link>
            </li>
          ))}
          {user ? (
            <>
              <li>
                <Link href="/account" aria-current={current("/account")} className={menuItem}>
                  Account
                  <span className="block text-sm font-normal break-all text-stone-500">{user.email}</span>
                </Link>
              </li>
              <li className="mt-1 border-t border-stone-100 pt-1">
                <SignOutButton className={`${menuItem} w-full text-left`} />
              </li>
            </>
          ) : user === null ? (
            <>
              <li className="mt-1 border-t border-stone-100 pt-1">
                <Link href="/sign-in" className={menuItem}>Sign in</Link>
              </li>
              <li>
                <Link href="/sign-up" className={menuItem}>Sign up</Link>
              </li>
            </>
          ) : null}
        </ul>
      </div>
    </div>
  );
}

const menuItem =
  "block rounded-lg px-3 py-2.5 text-stone-800 hover:bg-stone-100 aria-[current=page]:bg-stone-100 aria-[current=page]:text-stone-950";

function SignOutButton({ className }: { className: string }) {
  return (
    <form
      className="contents"
      action={async () => {
        const { redirectTo } = await signOutAction();
        window.location.assign(redirectTo);
      }}
    >
      <button type="submit" className={className}>Sign out</button>
    </form>
  );
}

function MenuIcon({ open }: { open: boolean }) {
  return (
    <svg aria-hidden="true" viewBox="0 0 24 24" className="h-5 w-5" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round">
      {open ? <path d="M6 6l12 12M18 6L6 18" /> : <path d="M4 7h16M4 12h16M4 17h16" />}
    </svg>
  );
}
