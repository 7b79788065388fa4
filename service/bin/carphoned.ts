#!/usr/bin/env -S npx tsx
import { Command } from 'commander';
import { ConfigError, errorMessage } from '../core/errors.js';
import { embeddedDefaults, loadConfigFile, parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { routeConsoleToLog } from '../log/console.js';
import { createLogger } from '../log/logger.js';
import { configurationSummary, readConfiguredFiles, startDaemon, VERSION } from '../daemon/daemon.js';
import { optimiseHotCodeSooner } from '../daemon/optimise-sooner.js';

const program = new Command()
  .name('carphoned')
  .description('carphone telephony daemon: SIP lines behind an oFono-compatible D-Bus API')
  .version(VERSION)
  .option('-c, --config <path>', 'YAML configuration file (embedded defaults when omitted)')
  .option('--bus <bus>', 'system, session, auto, or a D-Bus address (overrides dbus.bus)')
  .option('--bus-name <name>', 'well-known name to own, e.g. org.ofono (overrides dbus.name)')
  .option('--log-level <level>', 'error, warn, info, debug or trace (overrides log.level)')
  .option(
    '--can <source>',
    'CAN source: socketcan:IFACE, replay:FILE, replay-fast:FILE or udp:PORT (overrides vehicle.can)',
  )
  .option('--dbc <file>', 'DBC file (overrides the one the bindings name)')
  .option('--bindings <file>', 'vehicle bindings YAML (default: the reference vehicle)')
  .option(
    '--check-config',
    'check the configuration and the files it names, print what it sets up, and exit (0 good, 2 bad)',
  )
  .parse();

const opts = program.opts<{
  config?: string;
  bus?: string;
  busName?: string;
  logLevel?: string;
  can?: string;
  dbc?: string;
  bindings?: string;
  checkConfig?: boolean;
}>();

function loadConfig(): Config {
  const base: Config = opts.config ? loadConfigFile(opts.config) : parseConfig(embeddedDefaults);
  // Flags go through the same validation as the file, so a bad flag is reported like a bad key.
  return parseConfig({
    ...base,
    dbus: {
      ...base.dbus,
      ...(opts.bus ? { bus: opts.bus } : {}),
      ...(opts.busName ? { name: opts.busName } : {}),
    },
    log: { level: opts.logLevel ?? base.log.level },
    vehicle: {
      ...base.vehicle,
      ...(opts.can ? { can: opts.can } : {}),
      ...(opts.dbc ? { dbc: opts.dbc } : {}),
      ...(opts.bindings ? { bindings: opts.bindings } : {}),
    },
  });
}

async function main(): Promise<void> {
  optimiseHotCodeSooner();
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`carphoned: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const logger = createLogger(config.log.level);
  if (opts.checkConfig) {
    try {
      readConfiguredFiles(config, logger);
    } catch (e) {
      process.stderr.write(`carphoned: ${errorMessage(e)}\n`);
      process.exit(e instanceof ConfigError ? 2 : 1);
    }
    process.stdout.write(`configuration OK\n${configurationSummary(config).join('\n')}\n`);
    process.exit(0);
  }
  routeConsoleToLog(logger);
  process.on('uncaughtException', (e) => logger.fatal({ err: e.stack }, 'uncaught exception (kept running)'));
  process.on('unhandledRejection', (e) => logger.error({ err: errorMessage(e) }, 'unhandled rejection'));
  let daemon;
  try {
    daemon = await startDaemon(config, logger);
  } catch (e) {
    process.stderr.write(`carphoned: ${errorMessage(e)}\n`);
    process.exit(e instanceof ConfigError ? 2 : 1);
  }
  process.stdout.write(`DBUS_ADDRESS=${daemon.busAddress}\n`);
  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(0), 5000);
    force.unref();
    void daemon.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

void main();
