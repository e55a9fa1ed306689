/**
 * A second process writing the user's shared memory: appends `count` lines `<tag>-<i>` to block
 * `label` of the file given, one locked read-change-write each, then prints "done".
 * Arguments: file label tag count.
 */
import { SharedBlockFile } from '../../../../src/core/memory/sharedBlockFile';

async function main(): Promise<void> {
  const [file, label, tag, count] = process.argv.slice(2) as [string, string, string, string];
  const shared = new SharedBlockFile(file, 'user');
  for (let i = 0; i < Number(count); i++) {
    await shared.update((blocks) => {
      const block = blocks.find((b) => b.label === label);
      if (block) block.value = block.value === '' ? `${tag}-${i}` : `${block.value}\n${tag}-${i}`;
      else blocks.push({ label, value: `${tag}-${i}`, limit: 100_000 });
    });
  }
  process.stdout.write('done\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
