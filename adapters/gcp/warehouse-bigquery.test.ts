import { describe, expect, it } from 'vitest';
import { tableQualifier } from './warehouse-bigquery.ts';

describe('tableQualifier', () => {
  const qualify = tableQualifier(['vitals', 'vitals_raw', 'vitals_hourly', 'patients'], (n) => `\`p.d.${n}\``);

  it('qualifies this dataset\'s tables after FROM and JOIN, in any case, with or without backticks', () => {
    expect(qualify('SELECT * FROM vitals v JOIN `patients` p ON p.patient_id = v.patient_id'))
      .toBe('SELECT * FROM `p.d.vitals` v JOIN `p.d.patients` p ON p.patient_id = v.patient_id');
    expect(qualify('select 1 from Vitals_Hourly\njoin\n  vitals_raw)')).toBe('select 1 from `p.d.vitals_hourly`\njoin\n  `p.d.vitals_raw`)');
  });

  it('leaves qualified names, columns, longer names and other tables alone', () => {
    const untouched = [
      'SELECT vitals FROM other.vitals',
      'SELECT * FROM `x.y.vitals`',
      'SELECT * FROM vitals_elsewhere',
      'SELECT patients.x FROM t WHERE vitals = 1',
    ];
    for (const sql of untouched) expect(qualify(sql)).toBe(sql);
  });
});
