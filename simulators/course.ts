import { clamp } from './admission.ts';
import type { AdmissionOutcome, SimulatedAdmission } from './admission.ts';
import { SIGNS } from './simulation-parameters.ts';
import type { Sign, SimulationParameters } from './simulation-parameters.ts';

/**
 * The stay as it unfolds: the illness plan of the admission plus the ward's response to what it
 * observes. Outcomes are decided here, from the hidden progress and the response time, never from
 * a single measured vital.
 */
export interface Course {
  /** Hidden progress of the acute illness at `hours` (0 = baseline, 1 = the event). */
  progress(hours: number): number;
  /** Each sign's level at `hours`: its own lagged path along the progress. */
  signLevels(hours: number): Readonly<Record<Sign, number>>;
  /**
   * An observation set taken at `hours` scored `news2` (with the patient's profile). At or above
   * the response threshold, while the illness is under way, the ward responds (once).
   */
  observed(hours: number, news2: number): void;
  /** When the ward responded, if it has. */
  respondedAtHours(): number | null;
  /** Where the stay ends, given what has happened so far (it moves when a response succeeds). */
  endHours(): number;
  outcome(): AdmissionOutcome;
}

export function createCourse(admission: SimulatedAdmission, p: SimulationParameters): Course {
  const illness = admission.illness;
  let respondedAt: number | null = null;
  /** Hour at which a successful treatment turns the illness, and the progress it turned at. */
  let turn: { atHours: number; progress: number } | null = null;
  let outcome: AdmissionOutcome = admission.outcome;

  const rising = (hours: number): number => {
    if (illness.kind !== 'deteriorating' && illness.kind !== 'dying') return 0;
    if (hours <= illness.onsetHours) return 0;
    return Math.pow((hours - illness.onsetHours) / illness.rampHours, illness.exponent);
  };

  function progress(hours: number): number {
    if (illness.kind === 'none') return 0;
    if (illness.kind === 'resolving') return illness.initialProgress * Math.exp(-Math.max(0, hours) / illness.tauHours);
    if (turn && illness.kind === 'deteriorating' && hours > turn.atHours) return turn.progress * Math.exp(-(hours - turn.atHours) / illness.recoveryTauHours);
    return Math.min(1, rising(hours));
  }

  return {
    progress,
    signLevels(hours) {
      const level = progress(hours);
      const out = {} as Record<Sign, number>;
      for (const sign of SIGNS) {
        const { lag, amplitude } = admission.signs[sign];
        out[sign] = amplitude === 0 ? 0 : amplitude * clamp((level - lag) / (1 - lag), 0, 1);
      }
      return out;
    },
    observed(hours, news2) {
      if (respondedAt !== null || news2 < p.response.news2Threshold) return;
      // Ceiling of care: a palliative patient is kept comfortable, not escalated.
      if (illness.kind !== 'deteriorating') return;
      if (hours <= illness.onsetHours || hours >= outcome.atHours) return;
      respondedAt = hours;
      const turnsAt = hours + illness.responseDelayHours;
      const eventAt = illness.onsetHours + illness.rampHours;
      // Treatment works for some illnesses, and only if it takes effect before the event.
      if (!illness.reversible || turnsAt >= eventAt) return;
      turn = { atHours: turnsAt, progress: Math.min(1, rising(turnsAt)) };
      const home = Math.max(admission.plannedStayHours, turnsAt + illness.extraStayHours);
      outcome = { kind: 'discharged', atHours: home };
    },
    respondedAtHours: () => respondedAt,
    endHours: () => outcome.atHours,
    outcome: () => outcome,
  };
}
