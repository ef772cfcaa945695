import { NavLink } from "@remix-run/react";

// docs/design.md §6 names Renders, Requests, Workers, Fame and Me; each tab appears here when
// its pages exist.
const tabs = [
  { to: "/renders", label: "Renders", icon: "M4 5h16v14H4zM4 9h16M4 15h16M8 5v4m0 6v4m8-14v4m0 6v4" },
  { to: "/requests", label: "Requests", icon: "M4 4h16v12H7l-3 3zM8 9h8M8 12h5" },
  { to: "/workers", label: "Workers", icon: "M4 5h16v6H4zm0 8h16v6H4zm3-5h.01M7 16h.01" },
  { to: "/projects", label: "Projects", icon: "M3 7h6l2 2h10v10H3z" },
  { to: "/fame", label: "Fame", icon: "M8 4h8v5a4 4 0 0 1-8 0zM8 6H5a3 3 0 0 0 3 4m8-4h3a3 3 0 0 1-3 4m-4 3v4m-4 3h8" },
  { to: "/me", label: "Me", icon: "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm-7 8a7 7 0 0 1 14 0" },
] as const;

export function BottomNav() {
  return (
    <nav
      aria-label="Main"
      className="fixed inset-x-0 bottom-0 z-10 border-t border-stone-200 bg-white/95 pb-[env(safe-area-inset-bottom)] backdrop-blur"
    >
      <ul className="mx-auto flex max-w-xl">
        {tabs.map((tab) => (
          <li key={tab.to} className="flex-1">
            <NavLink
              to={tab.to}
              className={({ isActive }) =>
                `flex flex-col items-center gap-0.5 py-2 text-xs font-medium ${
                  isActive ? "text-cactus-700" : "text-stone-500 hover:text-stone-800"
                }`
              }
            >
              <svg viewBox="0 0 24 24" className="h-6 w-6" fill="none" stroke="currentColor" strokeWidth={1.8} aria-hidden>
                <path d={tab.icon} strokeLinecap="round" strokeLinejoin="round" />
              </svg>
              {tab.label}
            </NavLink>
          </li>
        ))}
      </ul>
    </nav>
  );
}
