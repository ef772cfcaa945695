/** The app icon and name; an image rather than the 🌵 emoji, which not every device draws. */
export function Logo({ size = "md" }: { size?: "md" | "lg" }) {
  const large = size === "lg";
  return (
    <span className={`inline-flex items-center gap-2 font-bold text-cactus-700 ${large ? "text-3xl" : "text-lg"}`}>
      <img src="/icons/icon.svg" alt="" className={large ? "h-10 w-10" : "h-7 w-7"} />
      Cactus
    </span>
  );
}
