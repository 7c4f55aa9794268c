import { describe, expect, it } from 'vitest';
import { storageOrigin } from './storage-origin.ts';

describe('storageOrigin', () => {
  it('drops the JSON API path and supplies a scheme when there is none', () => {
    expect(storageOrigin('http://127.0.0.1:4443/storage/v1')).toBe('http://127.0.0.1:4443');
    expect(storageOrigin('http://127.0.0.1:4443')).toBe('http://127.0.0.1:4443');
    expect(storageOrigin('127.0.0.1:4443')).toBe('http://127.0.0.1:4443');
  });
});
