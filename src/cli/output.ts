export type Output = 'json' | 'text';

/** Prints a command's result: the JSON document alone with --json, the text form otherwise. */
export function print(mode: Output, document: unknown, text: () => string): void {
  process.stdout.write(mode === 'json' ? `${JSON.stringify(document)}\n` : `${text()}\n`);
}

export function printError(message: string): void {
  process.stderr.write(`tenantgate: ${message}\n`);
}
