/**
 * `pteplay convert <in> <out> [--to jsonl|msgpack]`: re-encode a trace, streaming. Both encodings
 * carry the same records, so the conversion is lossless; every input record is validated on the way.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../src/errors.js';
import { openTrace, type TraceFormat } from '../src/trace/reader.js';
import { formatForPath, writeTrace } from '../src/trace/writer.js';

export function register(program: Command): void {
  program
    .command('convert')
    .description(
      'Convert a trace between JSON Lines and the binary chunked msgpack format.\n' +
        'The input format is detected from its content; gzip input is decompressed.\n' +
        'The output format follows the name (.jsonl/.json → JSON Lines, anything else → msgpack, e.g. .ptrace);\n' +
        'a name ending in .gz is compressed; "-" writes JSON Lines to stdout.',
    )
    .argument('<in>', 'input trace (JSON Lines or msgpack, optionally gzip-compressed)')
    .argument('<out>', 'output trace file, or - for stdout')
    .addOption(new Option('--to <format>', 'output format, overriding the file name').choices(['jsonl', 'msgpack']))
    .option('--json', 'print the summary as JSON on stdout (not with output -)')
    .action(async (input: string, output: string, opts: { to?: TraceFormat; json?: boolean }) => {
      if (opts.json && output === '-')
        throw new UsageError('convert: --json prints the summary on stdout, where - writes the trace: give an output file');
      const format = opts.to ?? formatForPath(output);
      if (output === '-' && format === 'msgpack' && process.stdout.isTTY) {
        throw new UsageError('convert: refusing to write binary msgpack to a terminal (redirect stdout or use --to jsonl)');
      }
      const trace = await openTrace(input);
      const { records, bytes } = await writeTrace(output, trace.header, trace.chunks, format);
      if (opts.json) {
        const summary = {
          input,
          inputFormat: trace.format,
          inputGzip: trace.gzip,
          inputBytes: trace.fileBytes,
          output,
          outputFormat: format,
          outputGzip: output.endsWith('.gz'),
          outputBytes: bytes,
          records,
        };
        process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        return;
      }
      process.stderr.write(
        `pteplay convert: ${records} records, ${trace.format}${trace.gzip ? '.gz' : ''} ` +
          `${formatBytes(trace.fileBytes)} → ${format}${output.endsWith('.gz') ? '.gz' : ''} ${formatBytes(bytes)} ` +
          `(${output === '-' ? 'stdout' : output})\n`,
      );
    });
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
