import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOnnxRiskModel } from './risk-model-onnx.ts';

const MODEL = path.join(import.meta.dirname, '..', 'models', 'recovery-risk.onnx');
const dir = mkdtempSync(path.join(tmpdir(), 'vigil-card-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of the shipped model with the given card beside it. */
function modelWithCard(name: string, card: object): string {
  const file = path.join(dir, `${name}.onnx`);
  copyFileSync(MODEL, file);
  writeFileSync(path.join(dir, `${name}.card.json`), JSON.stringify(card));
  return file;
}

describe('the risk model card’s deployed threshold', () => {
  it('is read from the card beside the model, and absent when the card has none', async () => {
    const withThreshold = await loadOnnxRiskModel({ path: modelWithCard('with', { name: 'm', version: 3, deployedThreshold: 0.18 }), topFactors: 0 });
    const without = await loadOnnxRiskModel({ path: modelWithCard('without', { name: 'm', version: 3 }), topFactors: 0 });
    try {
      expect([withThreshold.name, withThreshold.deployedThreshold]).toEqual(['m@3', 0.18]);
      expect(without.deployedThreshold).toBeUndefined();
    } finally {
      await withThreshold.close();
      await without.close();
    }
  });

  it('refuses a card whose threshold is not a probability', async () => {
    await expect(loadOnnxRiskModel({ path: modelWithCard('bad', { version: 1, deployedThreshold: 33 }) })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
