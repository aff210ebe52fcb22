/** Save a response body as a file (exports come through the session, so a plain link cannot carry the token). */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const anchor = document.createElement("a");
  anchor.href = url;
  anchor.download = filename;
  anchor.rel = "noopener";
  document.body.appendChild(anchor);
  anchor.click();
  anchor.remove();
  // The download has started from the object URL; give the browser a moment before releasing it.
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** "nexora-nhis-2026-11-26.csv": a dated file name in UTC. */
export function datedFilename(stem: string, extension: string, now: Date = new Date()): string {
  return `${stem}-${now.toISOString().slice(0, 10)}.${extension}`;
}
