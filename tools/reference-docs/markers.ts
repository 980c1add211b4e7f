/**
 * The generated part of a page sits between two HTML comments, so the prose around it is written
 * by hand and kept: only what is between the markers is replaced.
 */
const begin = (name: string) => `<!-- GENERATED ${name}: written by \`pnpm docs:reference\` from the code; edit the code, not this part -->`;
const end = (name: string) => `<!-- END GENERATED ${name} -->`;

/** The page with the part between its `name` markers replaced by `body`; throws when the page has no such markers. */
export function fillGenerated(page: string, name: string, body: string): string {
  const start = page.indexOf(begin(name));
  const stop = page.indexOf(end(name));
  if (start < 0 || stop < start) throw new Error(`no GENERATED ${name} markers in the page (add "${begin(name)}" and "${end(name)}")`);
  return `${page.slice(0, start)}${begin(name)}\n\n${body.trim()}\n\n${page.slice(stop)}`;
}

/** An empty generated part, for a page made for the first time. */
export const emptyGenerated = (name: string) => `${begin(name)}\n${end(name)}\n`;
