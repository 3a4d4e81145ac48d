// Command-line options of `npm run bench -- [options]`.

export interface BenchArgs {
  /** Substrings; a case runs when its name contains any of them (case-insensitive). Empty = all. */
  filter: string[];
  /** Thread counts to run, in order. Default: 1 and all cores. */
  threads: number[];
  quick: boolean;
  /** Time budget for the timed repetitions of one measurement, ms. */
  budgetMs: number;
  /** Print the markdown tables to stdout after the run. */
  markdown: boolean;
  /** Rewrite the generated section of BENCHMARKS.md. */
  writeMd: boolean;
  /** Skip the backward-data / backward-weight rows. */
  backward: boolean;
  /** Do not write bench/results/<date>.{json,svg}. */
  save: boolean;
  /** Render a saved bench/results/<date>.json instead of measuring. */
  from: string | null;
  help: boolean;
}

export const USAGE = `Usage: npm run bench -- [options]
  --filter <text>     run only cases whose name contains <text> (repeatable, or comma-separated)
  --threads <n[,m]>   thread counts to run (default: 1 and all cores)
  --quick             short time budget per measurement (about 4x faster, noisier)
  --budget <ms>       time budget for the timed repetitions of one measurement (default 1000, quick 250)
  --no-backward       skip convnd's backward-data / backward-weight rows
  --markdown          also print the result tables as markdown on stdout
  --write-md          rewrite the generated section of BENCHMARKS.md from this run
  --no-save           do not write bench/results/<date>.json and .svg
  --from <file.json>  measure nothing: print (and with --markdown / --write-md render) a saved run
  --help              this text`;

function positiveInts(flag: string, text: string | undefined): number[] {
  if (text === undefined) throw new Error(`${flag} needs a value`);
  const out = text.split(',').map((s) => Number(s.trim()));
  if (out.length === 0 || out.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`${flag} expects positive integers separated by commas, got '${text}'`);
  return out;
}

export function parseArgs(argv: readonly string[], cores: number): BenchArgs {
  const args: BenchArgs = {
    filter: [], threads: [], quick: false, budgetMs: 0, markdown: false, writeMd: false,
    backward: true, save: true, from: null, help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].includes('=') ? splitOnce(argv[i]) : [argv[i], undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--filter': {
        const v = value();
        if (v === undefined || v === '') throw new Error('--filter needs a value');
        args.filter.push(...v.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== ''));
        break;
      }
      case '--threads': args.threads = positiveInts('--threads', value()); break;
      case '--budget': args.budgetMs = positiveInts('--budget', value())[0]; break;
      case '--quick': args.quick = true; break;
      case '--markdown': args.markdown = true; break;
      case '--write-md': args.writeMd = true; break;
      case '--no-backward': args.backward = false; break;
      case '--no-save': args.save = false; break;
      case '--from': {
        const v = value();
        if (!v) throw new Error('--from needs a file');
        args.from = v;
        break;
      }
      case '--help': case '-h': args.help = true; break;
      default: throw new Error(`unknown option '${argv[i]}'\n${USAGE}`);
    }
  }
  if (args.threads.length === 0) args.threads = cores > 1 ? [1, cores] : [1];
  if (args.budgetMs === 0) args.budgetMs = args.quick ? 250 : 1000;
  return args;
}

function splitOnce(s: string): [string, string] {
  const at = s.indexOf('=');
  return [s.slice(0, at), s.slice(at + 1)];
}

export function matchesFilter(name: string, filter: readonly string[]): boolean {
  const lower = name.toLowerCase();
  return filter.length === 0 || filter.some((f) => lower.includes(f));
}
