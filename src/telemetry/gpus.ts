// The GPUs the DCGM stand-in can report, with the product name nvidia-smi and DCGM print for each and the
// figures a real board shows: framebuffer size, power limit and idle draw, SM clock at idle and boost, the
// memory clock, and temperatures at idle and at full load.

export interface GpuSpec {
  /** modelName, as DCGM reports it. */
  readonly product: string;
  /** DCGM_FI_DEV_FB_TOTAL: framebuffer, MiB. */
  readonly memoryMiB: number;
  /** DCGM_FI_DEV_POWER_MGMT_LIMIT, W. */
  readonly powerLimitW: number;
  readonly idlePowerW: number;
  readonly smClockIdleMHz: number;
  readonly smClockMaxMHz: number;
  readonly memClockMHz: number;
  readonly tempIdleC: number;
  readonly tempMaxC: number;
}

/** The accepted names of dcgm_gpu_name (the later AIPerf mock's, and a few more). */
export const GPUS = {
  a100: { product: 'NVIDIA A100-SXM4-80GB', memoryMiB: 81920, powerLimitW: 400, idlePowerW: 55, smClockIdleMHz: 210, smClockMaxMHz: 1410, memClockMHz: 1593, tempIdleC: 32, tempMaxC: 78 },
  'a100-40gb': { product: 'NVIDIA A100-SXM4-40GB', memoryMiB: 40960, powerLimitW: 400, idlePowerW: 52, smClockIdleMHz: 210, smClockMaxMHz: 1410, memClockMHz: 1215, tempIdleC: 32, tempMaxC: 78 },
  l40s: { product: 'NVIDIA L40S', memoryMiB: 46068, powerLimitW: 350, idlePowerW: 32, smClockIdleMHz: 210, smClockMaxMHz: 2520, memClockMHz: 9001, tempIdleC: 30, tempMaxC: 80 },
  rtx6000: { product: 'NVIDIA RTX 6000 Ada Generation', memoryMiB: 49140, powerLimitW: 300, idlePowerW: 28, smClockIdleMHz: 210, smClockMaxMHz: 2505, memClockMHz: 10001, tempIdleC: 30, tempMaxC: 82 },
  h100: { product: 'NVIDIA H100 80GB HBM3', memoryMiB: 81559, powerLimitW: 700, idlePowerW: 70, smClockIdleMHz: 345, smClockMaxMHz: 1980, memClockMHz: 2619, tempIdleC: 31, tempMaxC: 82 },
  'h100-sxm': { product: 'NVIDIA H100 80GB HBM3', memoryMiB: 81559, powerLimitW: 700, idlePowerW: 70, smClockIdleMHz: 345, smClockMaxMHz: 1980, memClockMHz: 2619, tempIdleC: 31, tempMaxC: 82 },
  'h100-pcie': { product: 'NVIDIA H100 PCIe', memoryMiB: 81559, powerLimitW: 350, idlePowerW: 48, smClockIdleMHz: 345, smClockMaxMHz: 1755, memClockMHz: 1593, tempIdleC: 33, tempMaxC: 80 },
  h200: { product: 'NVIDIA H200', memoryMiB: 143771, powerLimitW: 700, idlePowerW: 75, smClockIdleMHz: 345, smClockMaxMHz: 1980, memClockMHz: 3201, tempIdleC: 30, tempMaxC: 83 },
  b200: { product: 'NVIDIA B200', memoryMiB: 183359, powerLimitW: 1000, idlePowerW: 140, smClockIdleMHz: 600, smClockMaxMHz: 1965, memClockMHz: 3996, tempIdleC: 32, tempMaxC: 85 },
  gb200: { product: 'NVIDIA GB200', memoryMiB: 189471, powerLimitW: 1200, idlePowerW: 150, smClockIdleMHz: 600, smClockMaxMHz: 2062, memClockMHz: 3996, tempIdleC: 32, tempMaxC: 85 },
} as const satisfies Record<string, GpuSpec>;

export type GpuName = keyof typeof GPUS;

/** The driver release these boards report (the DCGM_FI_DRIVER_VERSION label). */
export const DRIVER_VERSION = '570.124.06';
