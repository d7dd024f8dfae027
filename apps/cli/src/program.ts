// The verb tree. Only commander is loaded at start-up; each action requires its implementation (and with it
// gRPC and the generated API) when it runs, so `berth --help` and `berth --version` stay fast.
import { Command, Option } from 'commander';
import { collect } from './context';
import { healthOptions } from './parse/health-flags';

export type Action = (...args: unknown[]) => Promise<number>;

/** Wraps a lazily required implementation; commander passes positional args, then options, then the command. */
function lazy<M>(load: () => M, pick: (m: M) => (...a: never[]) => Promise<number>): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const fn = pick(load()) as (...a: unknown[]) => Promise<number>;
    // Drop the trailing Command object commander appends.
    process.exitCode = await fn(...args.slice(0, -1));
  };
}

const run = () => require('./commands/run') as typeof import('./commands/run');
const life = () => require('./commands/lifecycle') as typeof import('./commands/lifecycle');
const img = () => require('./commands/images') as typeof import('./commands/images');
const insp = () => require('./commands/inspector') as typeof import('./commands/inspector');
const sys = () => require('./commands/system') as typeof import('./commands/system');
const prune = () => require('./commands/prune') as typeof import('./commands/prune');
const vol = () => require('./commands/volumes') as typeof import('./commands/volumes');
const regAuth = () => require('./commands/registry-auth') as typeof import('./commands/registry-auth');

/** The resource flags run/create and update share (docker takes them in both). */
function updatableResources(c: Command): Command {
  return c
    .option('--cpuset-cpus <list>', 'CPUs to run on, e.g. 0-1')
    .option('--cpuset-mems <list>', 'memory nodes to use, e.g. 0')
    .option('--memory-reservation <size>', 'soft memory limit, e.g. 32m')
    .option('--cpu-period <us>', 'CFS period in microseconds (1000..1000000)')
    .option('--cpu-quota <us>', 'CFS quota in microseconds per period (-1 for none)');
}

function containerOptions(c: Command): Command {
  return updatableResources(healthOptions(c))
    .option('-d, --detach', 'run in the background and print the container id')
    .option('-i, --interactive', 'keep stdin open')
    .option('-t, --tty', 'allocate a pseudo-TTY')
    .option('--rm', 'remove the container (and its writable layer) when it exits')
    .option('--name <name>', 'name the container')
    .option('-e, --env <K=V>', 'set an environment variable (repeatable)', collect)
    .option('--env-file <file>', 'read environment variables from a file (repeatable)', collect)
    .option('-v, --volume <src:dst[:ro]>', 'bind mount a host path (/host:/dst), a named volume (name:/dst) or a new anonymous one (/dst) (repeatable)', collect)
    .option('--mount <spec>', 'mount a bind, volume or tmpfs: type=volume,src=NAME,dst=/PATH[,readonly] (repeatable)', collect)
    .option('--tmpfs <dst[:opts]>', 'mount a tmpfs, e.g. /run:size=64m,exec (repeatable)', collect)
    .option('--volumes-from <container[:ro|:rw]>', 'mount the volumes and binds of another container (repeatable)', collect)
    .option('--log-driver <driver>', 'k8s-file (the default; json-file is taken as it) or none')
    .option('--log-opt <k=v>', 'log driver option: max-size=10m, max-file=3 (repeatable)', collect)
    .option('-p, --publish <[ip:]host:ctr[/proto]>', 'publish a container port (repeatable)', collect)
    .option('-P, --publish-all', 'publish every exposed port on a free host port')
    .option('--expose <port>', 'expose a port (repeatable)', collect)
    .option('--cpu-shares <n>', 'CPU shares (relative weight)')
    .option('--cpus <n>', 'number of CPUs, e.g. 1.5')
    .option('-m, --memory <size>', 'memory limit, e.g. 64m, 1g')
    .option('--memory-swap <size>', 'memory + swap limit; -1 for unlimited')
    .option('--pids-limit <n>', 'process count limit; -1 for unlimited')
    .option('--restart <policy>', 'no, always, unless-stopped or on-failure[:N]')
    .option('--init', 'run an init as PID 1 that forwards signals and reaps zombies')
    .option('-u, --user <user[:group]>', 'user to run as')
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('--entrypoint <cmd>', "override the image's entrypoint (\"\" clears it)")
    .option('--read-only', 'mount the root filesystem read-only')
    .addOption(new Option('--network <name>', 'network: bridge, none, host or a user network').env('BERTH_DEFAULT_NETWORK'))
    .addOption(new Option('--net <name>').hideHelp())
    .option('-h, --hostname <name>', 'container host name')
    .option('--stop-signal <sig>', 'signal that stops the container')
    .option('--stop-timeout <s>', 'seconds to wait before killing the container on stop')
    .option('--detach-keys <keys>', 'key sequence to detach, e.g. ctrl-p,ctrl-q')
    .option('-l, --label <k=v>', 'set a label (repeatable)', collect)
    .option('--label-file <file>', 'read labels from a file of key=value lines (repeatable)', collect)
    .option('--cidfile <file>', 'write the container id to this file (which must not exist)')
    .option('--pull <policy>', 'pull the image: missing, never (default) or always')
    .option('--runtime <name>', 'OCI runtime: crun or runc')
    .option('--cap-add <cap>', 'add a Linux capability, e.g. NET_ADMIN; ALL for every one (repeatable)', collect)
    .option('--cap-drop <cap>', 'drop a Linux capability; ALL for every one (repeatable)', collect)
    .option('--privileged', 'every capability, the host\'s devices, nothing masked')
    .option('--security-opt <opt>', 'no-new-privileges[:true|false] (repeatable)', collect)
    .option('--ulimit <name=soft[:hard]>', 'resource limit, e.g. nofile=1024:2048; -1 is unlimited (repeatable)', collect)
    .option('--sysctl <k=v>', 'namespaced kernel parameter, e.g. net.ipv4.ip_forward=1 (repeatable)', collect)
    .option('--shm-size <size>', 'size of /dev/shm, e.g. 128m (default 64m)')
    .option('--dns <ip>', 'name server for /etc/resolv.conf (repeatable)', collect)
    .option('--dns-search <domain>', 'search domain for /etc/resolv.conf (repeatable)', collect)
    .option('--dns-option <opt>', 'resolver option for /etc/resolv.conf, e.g. ndots:2 (repeatable)', collect)
    .option('--add-host <name:ip>', 'add a line to /etc/hosts; ip "host-gateway" is the network\'s gateway (repeatable)', collect)
    .option('--network-alias <name>', 'another name peers on its user network resolve it by (repeatable)', collect)
    .option('--ip <address>', 'IPv4 address on its user network (instead of the next free one)')
    .option('--mac-address <mac>', 'MAC address of eth0, e.g. 02:42:ac:11:00:02')
    .option('--device <host[:ctr][:rwm]>', 'make a host device (or the devices under a directory) in the container (repeatable)', collect)
    .option('--pid <mode>', 'PID namespace: host or container:<name|id>')
    .option('--ipc <mode>', 'IPC namespace: host or container:<name|id>')
    .option('--uts <mode>', 'UTS namespace: host')
    .option('--group-add <group>', 'extra group for the container\'s processes (repeatable)', collect)
    .option('--oom-score-adj <n>', 'OOM score adjustment, -1000..1000')
    .option('--oom-kill-disable', 'do not OOM-kill processes over the memory limit')
    .option('--memory-swappiness <n>', 'swappiness of its memory, 0..100')
    .option('--device-read-bps <path:rate>', 'read rate limit of a block device, e.g. /dev/sda:1mb (repeatable)', collect)
    .option('--device-write-bps <path:rate>', 'write rate limit of a block device (repeatable)', collect)
    .option('--device-read-iops <path:n>', 'read operations per second of a block device (repeatable)', collect)
    .option('--device-write-iops <path:n>', 'write operations per second of a block device (repeatable)', collect)
    .option('--domainname <name>', 'NIS domain name of the container');
}

export function buildProgram(): Command {
  const program = new Command('berth')
    .description('berth: a container engine. Docker-style verbs over the image-store, rootfs, supervisor and inspector services.')
    .helpOption('--help', 'show help')
    .version((require('../package.json') as { version: string }).version, '-v, --version', 'print the version')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ outputError: () => undefined })
    .showSuggestionAfterError(true);

  const withNet = (f: Record<string, unknown>) => (f.net && !f.network ? { ...f, network: f.net } : f);
  containerOptions(program.command('run').description('create and run a container').argument('<image>').argument('[command...]').passThroughOptions())
    .action(async (image: string, cmd: string[], f: Record<string, unknown>) => {
      process.exitCode = await run().run(image, cmd, withNet(f));
    });
  containerOptions(program.command('create').description('create a container without starting it').argument('<image>').argument('[command...]').passThroughOptions())
    .action(async (image: string, cmd: string[], f: Record<string, unknown>) => {
      process.exitCode = await run().create(image, cmd, withNet(f));
    });
  program.command('start').description('start stopped containers').argument('<container...>')
    .option('-a, --attach', 'attach stdout/stderr and forward signals')
    .option('-i, --interactive', "attach the container's stdin")
    .option('--detach-keys <keys>', 'key sequence to detach')
    .action(lazy(run, (m) => m.start));
  program.command('attach').description("attach the terminal to a running container's PID 1").argument('<container>')
    .option('--no-stdin', 'do not attach stdin')
    .option('--detach-keys <keys>', 'key sequence to detach')
    .action(lazy(run, (m) => m.attach));
  program.command('exec').description('run a command in a running container').argument('<container>').argument('<command...>').passThroughOptions()
    .option('-i, --interactive', 'keep stdin open')
    .option('-t, --tty', 'allocate a pseudo-TTY')
    .option('-d, --detach', 'run the command in the background')
    .option('-u, --user <user>', 'user to run as')
    .option('-w, --workdir <dir>', 'working directory')
    .option('-e, --env <K=V>', 'set an environment variable (repeatable)', collect)
    .action(lazy(run, (m) => m.exec));
  program.command('enter').description("a shell (or COMMAND) in a running container's namespaces (an exec through the supervisor)")
    .argument('<container>').argument('[command...]').passThroughOptions()
    .action(lazy(run, (m) => m.enter));
  program.command('stop').description('stop running containers (stop signal, then SIGKILL after the grace time)').argument('<container...>')
    .option('-t, --time <seconds>', 'seconds to wait before killing')
    .action(lazy(life, (m) => m.stop));
  program.command('restart').description('restart containers').argument('<container...>')
    .option('-t, --time <seconds>', 'seconds to wait before killing')
    .action(lazy(life, (m) => m.restart));
  program.command('kill').description('send a signal to PID 1 (SIGKILL by default)').argument('<container...>')
    .option('-s, --signal <signal>', 'signal name or number')
    .action(lazy(life, (m) => m.kill));
  program.command('pause').description('freeze every process of containers').argument('<container...>').action(lazy(life, (m) => m.pause));
  program.command('unpause').description('thaw paused containers').argument('<container...>').action(lazy(life, (m) => m.unpause));
  program.command('wait').description('wait for containers to stop and print their exit codes').argument('<container...>').action(lazy(life, (m) => m.wait));
  program.command('rm').description('remove containers and their writable layers').argument('<container...>')
    .option('-f, --force', 'kill a running container first')
    .option('-v, --volumes', 'remove their anonymous volumes too')
    .action(lazy(life, (m) => m.rm));
  program.command('rename').description('rename a container').argument('<container>').argument('<new-name>').action(lazy(life, (m) => m.rename));
  const update = program.command('update').description("change a container's resources or restart policy").argument('<container...>')
    .option('--cpu-shares <n>', 'CPU shares')
    .option('--cpus <n>', 'number of CPUs')
    .option('-m, --memory <size>', 'memory limit')
    .option('--memory-swap <size>', 'memory + swap limit')
    .option('--pids-limit <n>', 'process count limit')
    .option('--restart <policy>', 'restart policy');
  updatableResources(update).action(lazy(life, (m) => m.update));
  program.command('diff').description("list the files a container changed (A added, C changed, D deleted)").argument('<container>').action(lazy(life, (m) => m.diff));
  program.command('commit').description("make an image from a container's changes").argument('<container>').argument('[repository[:tag]]')
    .option('-a, --author <author>', 'author')
    .option('-m, --message <message>', 'commit message')
    .option('-p, --pause', 'pause the container while committing (default)', true)
    .option('--no-pause', 'do not pause')
    .action(lazy(life, (m) => m.commit));
  program.command('cp').description('copy files between a container and the host: cp CONTAINER:SRC DEST|- | SRC|- CONTAINER:DEST (running or stopped; "-" is a tar on stdin/stdout)')
    .argument('<source>').argument('<destination>')
    .option('-a, --archive', 'keep uid/gid of what is copied into the container')
    .option('-L, --follow-link', 'follow a symbolic link at SRC')
    .option('-q, --quiet', 'print no summary')
    .action(lazy(() => require('./commands/cp') as typeof import('./commands/cp'), (m) => m.cp));
  program.command('export').description("write a container's filesystem as a tar to stdout or a file").argument('<container>')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(lazy(() => require('./commands/export') as typeof import('./commands/export'), (m) => m.exportContainer));
  program.command('logs').description("print a container's logs").argument('<container>')
    .option('-f, --follow', 'follow new output')
    .option('-t, --timestamps', 'show timestamps')
    .option('--since <time>', 'only lines since (RFC 3339, unix time, or a duration like 10m)')
    .option('--until <time>', 'only lines before')
    .option('-n, --tail <n>', 'only the last n lines ("all" for every line)')
    .action(lazy(life, (m) => m.logs));

  program.command('ps').description('list containers').alias('ls')
    .option('-a, --all', 'show stopped containers too')
    .option('-l, --latest', 'show the last created container')
    .option('-n, --last <n>', 'show the n last created containers')
    .option('-q, --quiet', 'only ids')
    .option('-s, --size', 'show the writable layer size')
    .option('-f, --filter <k=v>', 'filter: status, name, label, ancestor, exited, id, health (repeatable)', collect)
    .option('--format <template>', 'json, a Go template, or "table TEMPLATE"')
    .option('--no-trunc', 'do not truncate')
    .action(lazy(insp, (m) => m.ps));
  program.command('inspect').description('detailed JSON about containers or images').argument('<object...>')
    .option('-f, --format <template>', 'json or a Go template like {{.State.Pid}}')
    .option('--type <type>', 'container or image')
    .option('-s, --size', 'add SizeRw and SizeRootFs of containers')
    .action(lazy(insp, (m) => m.inspect));
  program.command('top').description("list a container's processes").argument('<container>').argument('[ps-options...]').passThroughOptions()
    .action(lazy(insp, (m) => m.top));
  program.command('port').description("a container's published ports, or where one of them is published").argument('<container>').argument('[private-port]', 'PORT[/tcp|udp]')
    .action(lazy(insp, (m) => m.port));
  program.command('stats').description('live resource use of containers').argument('[container...]')
    .option('--no-stream', 'print one sample and exit')
    .option('--format <template>', 'json or a Go template')
    .action(async (ids: string[], f: { stream?: boolean; format?: string }) => {
      process.exitCode = await insp().stats(ids, { noStream: f.stream === false, ...(f.format ? { format: f.format } : {}) });
    });
  program.command('events').description('events from the services (history with --since, then live)')
    .option('--since <time>', 'replay from this time')
    .option('--until <time>', 'stop at this time')
    .option('-f, --filter <k=v>', 'type, container, image, event (repeatable)', collect)
    .option('--format <template>', 'json or a Go template')
    .action(lazy(insp, (m) => m.events));

  program.command('images').description('list images').argument('[repository]')
    .option('-q, --quiet', 'only ids')
    .option('--format <template>', 'json or a Go template')
    .option('--no-trunc', 'full ids')
    .option('--digests', 'show the manifest digest of each image')
    .option('-a, --all', 'all images (berth keeps no intermediate images: the same list)')
    .action(lazy(img, (m) => m.images));
  program.command('load').description('load images from a docker-archive or OCI archive (file or stdin)')
    .option('-i, --input <file>', 'read from a file instead of stdin')
    .option('-q, --quiet', 'no progress')
    .action(lazy(img, (m) => m.load));
  program.command('save').description('write images as a docker-archive (to a file or stdout)').argument('<image...>')
    .option('-o, --output <file>', 'write to a file')
    .option('--format <format>', 'docker-archive (default) or oci-archive')
    .action(lazy(img, (m) => m.save));
  program.command('import').description('make an image from a root filesystem tarball').argument('<file>').argument('[repository[:tag]]')
    .option('-c, --change <instruction>', 'Dockerfile instruction, e.g. CMD ["sh"] (repeatable)', collect)
    .option('-m, --message <message>', 'commit message')
    .action(lazy(img, (m) => m.importRootfs));
  program.command('pull').description('pull an image from a registry').argument('<image>')
    .option('--insecure-registry <registry>', 'registry reachable over plain HTTP (repeatable)', collect)
    .addOption(new Option('--insecure <registry>').argParser(collect).hideHelp())
    .option('--platform <platform>', 'platform, default linux/amd64')
    .option('-q, --quiet', 'no progress')
    .action(lazy(img, (m) => m.pull));
  program.command('push').description('upload an image to a registry').argument('<name[:tag]>')
    .option('--insecure-registry <registry>', 'registry reachable over plain HTTP (repeatable)', collect)
    .addOption(new Option('--insecure <registry>').argParser(collect).hideHelp())
    .option('-q, --quiet', 'only the digest line')
    .action(lazy(regAuth, (m) => m.push));
  program.command('login').description('log in to a registry (default Docker Hub) and store the credentials').argument('[server]')
    .option('-u, --username <user>', 'user name')
    .option('-p, --password <password>', 'password (prefer --password-stdin)')
    .option('--password-stdin', 'read the password from stdin')
    .option('--insecure-registry <registry>', 'registry reachable over plain HTTP (repeatable)', collect)
    .addOption(new Option('--insecure <registry>').argParser(collect).hideHelp())
    .action(lazy(regAuth, (m) => m.login));
  program.command('logout').description("remove a registry's stored credentials").argument('[server]').action(lazy(regAuth, (m) => m.logout));
  program.command('tag').description('give an image another name').argument('<source>').argument('<target>').action(lazy(img, (m) => m.tag));
  program.command('rmi').description('remove images').argument('<image...>').option('-f, --force', 'remove every name of an id').action(lazy(img, (m) => m.rmi));
  program.command('history').description("an image's layers and how they were made").argument('<image>')
    .option('--no-trunc', 'do not truncate')
    .option('-q, --quiet', 'only the id')
    .action(lazy(img, (m) => m.history));
  const image = program.command('image').description('image commands');
  image.command('inspect').description('detailed JSON about images').argument('<image...>')
    .option('-f, --format <template>', 'json or a Go template')
    .action(async (refs: string[], f: { format?: string }) => {
      process.exitCode = await insp().inspect(refs, { ...f, type: 'image' });
    });
  image.command('ls').description('list images').argument('[repository]').option('-q, --quiet', 'only ids').option('--format <template>', 'json or a Go template')
    .option('--no-trunc', 'full ids').option('--digests', 'show the manifest digest of each image').option('-a, --all', 'all images (the same list)')
    .action(lazy(img, (m) => m.images));
  image.command('rm').description('remove images').argument('<image...>').option('-f, --force', 'remove every name of an id').action(lazy(img, (m) => m.rmi));
  image.command('prune').description('remove dangling images (every unused one with -a)').option('-f, --force', 'do not ask').option('-a, --all', 'every image no container uses')
    .action(lazy(prune, (m) => m.imagePrune));
  image.command('history').description("an image's layers").argument('<image>').action(lazy(img, (m) => m.history));

  const container = program.command('container').description('container commands');
  container.command('ls').description('list containers').option('-a, --all', 'show stopped containers too').option('-q, --quiet', 'only ids').action(lazy(insp, (m) => m.ps));
  container.command('inspect').description('detailed JSON about containers').argument('<container...>').option('-f, --format <template>', 'json or a Go template')
    .option('-s, --size', 'add SizeRw and SizeRootFs')
    .action(async (refs: string[], f: { format?: string; size?: boolean }) => {
      process.exitCode = await insp().inspect(refs, { ...f, type: 'container' });
    });
  container.command('rm').description('remove containers').argument('<container...>').option('-f, --force', 'kill a running container first')
    .option('-v, --volumes', 'remove their anonymous volumes too').action(lazy(life, (m) => m.rm));
  container.command('prune').description('remove stopped containers').option('-f, --force', 'do not ask').action(lazy(prune, (m) => m.containerPrune));
  container.command('export').description("write a container's filesystem as a tar to stdout or a file").argument('<container>')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(lazy(() => require('./commands/export') as typeof import('./commands/export'), (m) => m.exportContainer));
  container.command('cp').description('copy files between a container and the host').argument('<source>').argument('<destination>')
    .option('-a, --archive', 'keep uid/gid of what is copied into the container')
    .option('-L, --follow-link', 'follow a symbolic link at SRC')
    .option('-q, --quiet', 'print no summary')
    .action(lazy(() => require('./commands/cp') as typeof import('./commands/cp'), (m) => m.cp));

  const network = program.command('network').description('network commands');
  network.command('create').description('create a bridge network').argument('<name>')
    .option('--subnet <cidr>', 'IPv4 subnet, e.g. 10.89.3.0/24')
    .option('--gateway <ip>', 'gateway address')
    .option('--label <k=v>', 'label (repeatable)', collect)
    .action(lazy(sys, (m) => m.networkCreate));
  network.command('ls').description('list networks').option('-q, --quiet', 'only ids').option('-f, --filter <name=TEXT>', 'filter by name', collect).action(lazy(sys, (m) => m.networkLs));
  network.command('rm').description('remove networks').argument('<network...>').action(lazy(sys, (m) => m.networkRm));
  network.command('prune').description('remove user networks no container is on').option('-f, --force', 'do not ask').action(lazy(prune, (m) => m.networkPrune));
  network.command('connect').description('connect a container to a network (at once if it runs, and at every start)').argument('<network>').argument('<container>')
    .option('--alias <name>', 'another name peers on the network resolve it by (repeatable)', collect)
    .option('--ip <address>', 'IPv4 address on that network (instead of the next free one)').action(lazy(sys, (m) => m.networkConnect));
  network.command('disconnect').description('disconnect a container from a network connect added').argument('<network>').argument('<container>')
    .option('-f, --force', 'no error when the container is not on the network').action(lazy(sys, (m) => m.networkDisconnect));
  network.command('inspect').description('detailed JSON about networks').argument('<network...>').option('-f, --format <template>', 'json or a Go template')
    .action(lazy(sys, (m) => m.networkInspect));

  const volume = program.command('volume').description('volume commands');
  volume.command('create').description('create a volume').argument('[name]')
    .option('-d, --driver <name>', 'volume driver (local)', 'local')
    .option('--label <k=v>', 'label (repeatable)', collect)
    .option('-o, --opt <k=v>', 'driver option (repeatable; the local driver takes none)', collect)
    .action(lazy(vol, (m) => m.volumeCreate));
  volume.command('ls').description('list volumes').option('-q, --quiet', 'only names')
    .option('-f, --filter <k=v>', 'dangling=true|false, name=TEXT, label=KEY[=VALUE], driver=local (repeatable)', collect)
    .option('--format <template>', 'json or a Go template').action(lazy(vol, (m) => m.volumeLs));
  volume.command('inspect').description('detailed JSON about volumes').argument('<volume...>').option('-f, --format <template>', 'json or a Go template')
    .action(lazy(vol, (m) => m.volumeInspect));
  volume.command('rm').description('remove volumes').argument('<volume...>').option('-f, --force', 'no error when a volume does not exist')
    .action(lazy(vol, (m) => m.volumeRm));
  volume.command('prune').description('remove unused anonymous volumes (all unused ones with -a)').option('-f, --force', 'do not ask')
    .option('-a, --all', 'named volumes too').option('--filter <label=k[=v]>', 'only volumes with this label (repeatable)', collect)
    .action(lazy(vol, (m) => m.volumePrune));

  const system = program.command('system').description('system commands');
  system.command('info').description('system-wide information').action(lazy(sys, (m) => m.info));
  system.command('df').description('disk use of images, containers and volumes').action(lazy(sys, (m) => m.df));
  system.command('prune').description('remove stopped containers, orphaned writable layers, unused networks and dangling images').option('-f, --force', 'do not ask')
    .option('-a, --all', 'every image no container uses, not only dangling ones').option('--volumes', 'anonymous volumes no container uses too')
    .action(lazy(prune, (m) => m.systemPrune));
  program.command('info').description('system-wide information').action(lazy(sys, (m) => m.info));
  program.command('version').description('versions of the CLI and status of each service').option('-f, --format <template>', 'json or a Go template')
    .action(lazy(sys, (m) => m.version));
  program.command('completion').description('print a shell completion script').argument('<shell>', 'bash')
    .action(async (shell: string) => {
      const { completionScript } = require('./completion') as typeof import('./completion');
      process.stdout.write(completionScript(shell, program));
      process.exitCode = 0;
    });
  return program;
}
