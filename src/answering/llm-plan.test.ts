import { describe, expect, it } from 'vitest';
import type { MeasuredCapabilities } from '../hearing/asr-plan.ts';
import { planLocalLlm, wasmFallbackLlmPlan } from './llm-plan.ts';

const MODEL = 'HuggingFaceTB/SmolLM2-360M-Instruct';
const browser = (webgpu: boolean, shaderF16: boolean): MeasuredCapabilities => ({
  webgpu,
  shaderF16,
  crossOriginIsolated: true,
  cores: 4,
});

describe('planLocalLlm', () => {
  it('WebGPU with shader-f16 → q4f16; without → q4; no adapter → WASM q8', () => {
    expect(planLocalLlm({ model: MODEL, device: 'auto' }, browser(true, true))).toMatchObject({ device: 'webgpu', dtype: 'q4f16' });
    expect(planLocalLlm({ model: MODEL, device: 'auto' }, browser(true, false))).toMatchObject({ device: 'webgpu', dtype: 'q4' });
    expect(planLocalLlm({ model: MODEL, device: 'auto' }, browser(false, false))).toMatchObject({ device: 'wasm', dtype: 'q8' });
  });

  it('local-llm-device="wasm" and an explicit dtype win', () => {
    expect(planLocalLlm({ model: MODEL, device: 'wasm' }, browser(true, true))).toMatchObject({ device: 'wasm', dtype: 'q8' });
    expect(planLocalLlm({ model: MODEL, device: 'auto', dtype: 'fp32' }, browser(true, true))).toMatchObject({
      device: 'webgpu',
      dtype: 'fp32',
    });
    const plan = planLocalLlm({ model: MODEL, device: 'webgpu' }, browser(false, false));
    expect(plan).toMatchObject({ device: 'wasm', dtype: 'q8' });
    expect(plan.reason).toContain('requested');
  });

  it('falls back to WASM q8 (or the explicit dtype) after a failed GPU load', () => {
    const failed = planLocalLlm({ model: MODEL, device: 'auto' }, browser(true, true));
    expect(wasmFallbackLlmPlan(failed, { model: MODEL, device: 'auto' }, 'device lost')).toMatchObject({
      model: MODEL,
      device: 'wasm',
      dtype: 'q8',
    });
    expect(wasmFallbackLlmPlan(failed, { model: MODEL, device: 'auto', dtype: 'q4' }, 'x').dtype).toBe('q4');
  });
});
