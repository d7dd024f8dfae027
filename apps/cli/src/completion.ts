// Shell completion, generated from the verb tree so it never drifts from the real flags. Container and image
// names are completed by asking berth itself (`berth ps -a --format {{.Names}}`, `berth images --format ...`).
import type { Command } from 'commander';
import { UsageError } from './cli-error';

const CONTAINER_VERBS = new Set(['start', 'stop', 'restart', 'kill', 'pause', 'unpause', 'wait', 'rm', 'rename', 'update', 'diff', 'commit', 'logs', 'inspect', 'top', 'port', 'stats', 'attach', 'exec', 'enter']);
const IMAGE_VERBS = new Set(['run', 'create', 'save', 'tag', 'rmi', 'history']);

function words(cmd: Command): string {
  const flags = cmd.options.flatMap((o) => [o.short, o.long].filter((x): x is string => !!x));
  return [...cmd.commands.map((c) => c.name()), ...flags, '--help'].join(' ');
}

export function completionScript(shell: string, program: Command): string {
  if (shell !== 'bash') throw new UsageError(`unsupported shell "${shell}": only bash is supported`);
  const cases = program.commands
    .map((c) => {
      const kind = CONTAINER_VERBS.has(c.name()) ? 'containers' : IMAGE_VERBS.has(c.name()) ? 'images' : '';
      const sub = c.commands.length ? c.commands.map((s) => `        ${c.name()}/${s.name()}) opts="${words(s)}" ;;`).join('\n') + '\n' : '';
      return `${sub}        ${c.name()}) opts="${words(c)}"; kind="${kind}" ;;`;
    })
    .join('\n');
  return `# bash completion for berth: source <(berth completion bash)
_berth() {
    local cur verb sub opts kind
    cur="\${COMP_WORDS[COMP_CWORD]}"
    verb="\${COMP_WORDS[1]}"
    sub="\${COMP_WORDS[2]}"
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=( $(compgen -W "${words(program)}" -- "$cur") )
        return
    fi
    opts=""; kind=""
    case "$verb/$sub" in
${program.commands.flatMap((c) => c.commands.map((s) => `        ${c.name()}/${s.name()}) opts="${words(s)}" ;;`)).join('\n')}
        *)
            case "$verb" in
${cases.split('\n').filter((l) => !l.includes('/')).map((l) => '    ' + l).join('\n')}
            esac ;;
    esac
    if [[ "$cur" != -* ]]; then
        case "$kind" in
            containers) opts="$opts $(berth ps -a --format '{{.Names}}' 2>/dev/null)" ;;
            images) opts="$opts $(berth images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null)" ;;
        esac
    fi
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
}
complete -F _berth berth
`;
}
