import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { renderReferencePages } from './reference-docs';

/**
 * `pnpm docs:reference`: writes the generated parts of docs/reference/*.md from the code. Compiled
 * with the apps (tsconfig.tools.json) and run from dist/tools/reference-docs/, three levels below
 * the repository.
 */
async function main() {
  const root = resolve(__dirname, '../../..');
  for (const page of await renderReferencePages(root)) {
    writeFileSync(join(root, page.path), page.text);
    console.log(`wrote ${page.path}`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
