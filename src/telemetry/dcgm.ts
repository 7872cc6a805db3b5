// A stand-in for NVIDIA's DCGM exporter: GET /dcgm{N}/metrics reports dcgm_num_gpus boards of dcgm_gpu_name
// in the exporter's own text (its field names, types, units and labels), their readings following the load
// the server is under. Formulas (per board i, load L from 0 to 1 over the last dcgm_window_sec):
//   L_i         = L × (1 + offset_i)                              offset_i: a fixed 0 to −8 % per board
//   GPU_UTIL    = 100 × L_i                                       %
//   POWER_USAGE = (idle + (limit − idle) × L_i) × scale_i           W   (scale_i: a fixed 0.94 to 1 per board)
//   TOTAL_ENERGY_CONSUMPTION = base_i + 1000 × scale_i × (idle × seconds since boot + (limit − idle) × (1 + offset_i) × busy)   mJ
//   GPU_TEMP    = idle °C + (max − idle °C) × L_i                  °C  (MEMORY_TEMP a few degrees above)
//   SM_CLOCK    = idle + (boost − idle) × L_i                      MHz
//   FB_USED     = (total − reserved) × (0.1 + 0.8 × max(L_i, KV-cache usage))   MiB
// where `busy` is the integral over time of L (see Snapshot.busy), so the energy counter rises by exactly the
// mean power shown (before noise), and each gauge but the energy carries a small seeded noise (±1–2 %).
import { seeded, type Random } from '../model/random.js';
import { DRIVER_VERSION, GPUS, type GpuName, type GpuSpec } from './gpus.js';
import { Exposition, type Kind, type Labels } from './exposition.js';
import type { Settings } from '../types.js';

/** What a DCGM page is computed from. */
export interface GpuLoad {
  /** Mean load over the window, 0 to 1. */
  load: number;
  /** Seconds of full load since start (all workers). */
  busy: number;
  /** Share of the KV cache the running requests hold, 0 to 1. */
  kvUsage: number;
  /** Date.now() */
  wallMs: number;
}

type DcgmSettings = Pick<Settings, 'dcgm_gpu_name' | 'dcgm_num_gpus' | 'dcgm_hostname' | 'dcgm_seed'>;

/** The moment every board "booted": fixed, so every worker computes the same energy counter. */
const BOOT_MS = Date.UTC(2025, 0, 1);

/** Bus ids of an eight-GPU HGX board, in order. */
const PCI_BUSES = ['18', '2A', '3A', '5D', '9A', 'AB', 'BA', 'DB'];

/** A 32-bit mix of a few integers: seeds for independent streams. */
function mix(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193);
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
    h ^= h >>> 12;
  }
  return h >>> 0;
}

const hex = (r: Random, digits: number): string =>
  Array.from({ length: digits }, () => Math.floor(r.next() * 16).toString(16)).join('');

/** One board's fixed identity and character. */
interface Board {
  index: number;
  uuid: string;
  pciBusId: string;
  /** How much less busy than the load this board runs, 0 to −8 % (tensor-parallel ranks are never quite even). */
  offset: number;
  /** Its power draw relative to the spec, 0.94 to 1 (silicon lottery). */
  scale: number;
  tempOffset: number;
  /** Energy counted before the boot epoch, mJ: boards differ. */
  energyBase: number;
  reservedMiB: number;
}

/** One exporter instance (one /dcgmN): its boards, and the noise stream its scrapes draw from. */
export class DcgmExporter {
  readonly #spec: GpuSpec;
  readonly #boards: Board[];
  readonly #noise: Random;

  constructor(
    readonly settings: Readonly<DcgmSettings>,
    /** 1-based, as in the path. */
    readonly instance: number,
    /** The seed when dcgm_seed is null: one per server, the same in every worker. */
    defaultSeed: number,
  ) {
    this.#spec = GPUS[settings.dcgm_gpu_name as GpuName];
    const seed = settings.dcgm_seed ?? defaultSeed;
    this.#noise = seeded(mix(seed, instance, 0x6e6f6973));
    this.#boards = Array.from({ length: settings.dcgm_num_gpus }, (_, index) => {
      const r = seeded(mix(seed, instance, index, 0x626f6172));
      return {
        index,
        uuid: `GPU-${hex(r, 8)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 12)}`,
        pciBusId: `00000000:${PCI_BUSES[index % PCI_BUSES.length]}:00.0`,
        offset: -r.next() * 0.08,
        scale: 0.94 + r.next() * 0.06,
        tempOffset: Math.round((r.next() - 0.5) * 4),
        energyBase: Math.floor(r.next() * 1e9),
        reservedMiB: 480 + Math.floor(r.next() * 64),
      };
    });
  }

  /** Whether this instance still matches the settings (else a new one is made: new boards). */
  matches(s: Readonly<DcgmSettings>): boolean {
    const t = this.settings;
    return t.dcgm_gpu_name === s.dcgm_gpu_name && t.dcgm_num_gpus === s.dcgm_num_gpus && t.dcgm_hostname === s.dcgm_hostname && t.dcgm_seed === s.dcgm_seed;
  }

  /** The page: every field, one line per board, in the exporter's order. */
  render(x: GpuLoad): string {
    const spec = this.#spec;
    const noise = (spread: number): number => 1 + (this.#noise.next() * 2 - 1) * spread;
    const readings = this.#boards.map((b) => {
      const l = Math.min(1, x.load * (1 + b.offset));
      const power = Math.min(spec.powerLimitW, (spec.idlePowerW + (spec.powerLimitW - spec.idlePowerW) * l) * b.scale * noise(0.015));
      const temp = Math.round((spec.tempIdleC + b.tempOffset + (spec.tempMaxC - spec.tempIdleC) * l) * noise(0.01));
      const usable = spec.memoryMiB - b.reservedMiB;
      const used = Math.round(usable * (0.1 + 0.8 * Math.max(l, x.kvUsage)) * noise(0.005));
      const seconds = (x.wallMs - BOOT_MS) / 1000;
      const energy = b.energyBase + 1000 * b.scale * (spec.idlePowerW * seconds + (spec.powerLimitW - spec.idlePowerW) * (1 + b.offset) * x.busy);
      const ratio = (k: number): number => Math.min(1, k * l * noise(0.02));
      return {
        b,
        values: {
          DCGM_FI_DEV_SM_CLOCK: int(spec.smClockIdleMHz + (spec.smClockMaxMHz - spec.smClockIdleMHz) * l),
          DCGM_FI_DEV_MEM_CLOCK: int(spec.memClockMHz),
          DCGM_FI_DEV_MEMORY_TEMP: int(temp + 3 + Math.round(2 * l)),
          DCGM_FI_DEV_GPU_TEMP: int(temp),
          DCGM_FI_DEV_POWER_USAGE: real(power),
          DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION: int(Math.floor(energy)),
          DCGM_FI_DEV_PCIE_REPLAY_COUNTER: int(0),
          DCGM_FI_DEV_GPU_UTIL: int(Math.min(100, 100 * l * noise(0.02))),
          DCGM_FI_DEV_MEM_COPY_UTIL: int(Math.min(100, 60 * l * noise(0.02))),
          DCGM_FI_DEV_ENC_UTIL: int(0),
          DCGM_FI_DEV_DEC_UTIL: int(0),
          DCGM_FI_DEV_XID_ERRORS: int(0),
          DCGM_FI_DEV_FB_FREE: int(usable - used),
          DCGM_FI_DEV_FB_USED: int(used),
          DCGM_FI_DEV_FB_TOTAL: int(spec.memoryMiB),
          DCGM_FI_DEV_POWER_MGMT_LIMIT: real(spec.powerLimitW),
          DCGM_FI_DEV_POWER_VIOLATION: int(0),
          DCGM_FI_DEV_THERMAL_VIOLATION: int(0),
          DCGM_FI_PROF_GR_ENGINE_ACTIVE: real(ratio(1)),
          DCGM_FI_PROF_SM_ACTIVE: real(ratio(0.92)),
          DCGM_FI_PROF_PIPE_TENSOR_ACTIVE: real(ratio(0.45)),
          DCGM_FI_PROF_DRAM_ACTIVE: real(ratio(0.6)),
        } satisfies Record<Field, string>,
      };
    });
    const page = new Exposition('go');
    for (const [field, kind, help] of FIELDS) {
      page.family(field, help, kind, () => {
        for (const r of readings) page.sample(field, this.#labels(r.b), r.values[field]);
      });
    }
    return page.text();
  }

  #labels(b: Board): Labels {
    return [
      ['gpu', String(b.index)],
      ['UUID', b.uuid],
      ['pci_bus_id', b.pciBusId],
      ['device', `nvidia${b.index}`],
      ['modelName', this.#spec.product],
      ['Hostname', this.settings.dcgm_hostname],
      ['DCGM_FI_DRIVER_VERSION', DRIVER_VERSION],
    ];
  }
}

/** The exporter prints integer fields with %d and floating ones with %f. */
const int = (v: number): string => String(Math.max(0, Math.round(v)));
const real = (v: number): string => Math.max(0, v).toFixed(6);

/** The fields, in the order of the exporter's default counters file, with its types and units. */
const FIELDS = [
  ['DCGM_FI_DEV_SM_CLOCK', 'gauge', 'SM clock frequency (in MHz).'],
  ['DCGM_FI_DEV_MEM_CLOCK', 'gauge', 'Memory clock frequency (in MHz).'],
  ['DCGM_FI_DEV_MEMORY_TEMP', 'gauge', 'Memory temperature (in C).'],
  ['DCGM_FI_DEV_GPU_TEMP', 'gauge', 'GPU temperature (in C).'],
  ['DCGM_FI_DEV_POWER_USAGE', 'gauge', 'Power draw (in W).'],
  ['DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION', 'counter', 'Total energy consumption since boot (in mJ).'],
  ['DCGM_FI_DEV_PCIE_REPLAY_COUNTER', 'counter', 'Total number of PCIe retries.'],
  ['DCGM_FI_DEV_GPU_UTIL', 'gauge', 'GPU utilization (in %).'],
  ['DCGM_FI_DEV_MEM_COPY_UTIL', 'gauge', 'Memory utilization (in %).'],
  ['DCGM_FI_DEV_ENC_UTIL', 'gauge', 'Encoder utilization (in %).'],
  ['DCGM_FI_DEV_DEC_UTIL', 'gauge', 'Decoder utilization (in %).'],
  ['DCGM_FI_DEV_XID_ERRORS', 'gauge', 'Value of the last XID error encountered.'],
  ['DCGM_FI_DEV_FB_FREE', 'gauge', 'Framebuffer memory free (in MiB).'],
  ['DCGM_FI_DEV_FB_USED', 'gauge', 'Framebuffer memory used (in MiB).'],
  ['DCGM_FI_DEV_FB_TOTAL', 'gauge', 'Framebuffer memory total (in MiB).'],
  ['DCGM_FI_DEV_POWER_MGMT_LIMIT', 'gauge', 'Power management limit (in W).'],
  ['DCGM_FI_DEV_POWER_VIOLATION', 'counter', 'Throttling duration due to power constraints (in us).'],
  ['DCGM_FI_DEV_THERMAL_VIOLATION', 'counter', 'Throttling duration due to thermal constraints (in us).'],
  ['DCGM_FI_PROF_GR_ENGINE_ACTIVE', 'gauge', 'Ratio of time the graphics engine is active.'],
  ['DCGM_FI_PROF_SM_ACTIVE', 'gauge', 'The ratio of cycles an SM has at least 1 warp assigned.'],
  ['DCGM_FI_PROF_PIPE_TENSOR_ACTIVE', 'gauge', 'Ratio of cycles the tensor (HMMA) pipe is active.'],
  ['DCGM_FI_PROF_DRAM_ACTIVE', 'gauge', 'Ratio of cycles the device memory interface is active sending or receiving data.'],
] as const satisfies ReadonlyArray<readonly [string, Kind, string]>;

type Field = (typeof FIELDS)[number][0];

/** The exporters of one server, made again when their settings change. */
export class DcgmFleet {
  #exporters: DcgmExporter[] = [];

  constructor(readonly defaultSeed: number) {}

  exporter(instance: number, s: Readonly<DcgmSettings>): DcgmExporter {
    let e = this.#exporters[instance - 1];
    if (!e || !e.matches(s)) this.#exporters[instance - 1] = e = new DcgmExporter({ ...s }, instance, this.defaultSeed);
    return e;
  }
}
