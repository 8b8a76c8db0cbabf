/**
 * The PyTorch snippet a grown model's card shows: parameter groups from ligo_new_parameters.json
 * (new parameters re-warmed to the peak, inherited ones held at the rate the source ended at), and
 * the per-element variant for tensors that are partly new. It must stay valid Python
 * (test/output/training_snippet.test.ts parses it).
 */
import { NEW_PARAMETERS_FILE } from './files.js';

export interface SnippetRates {
  /** The new parameters' peak. */
  peakLr: number;
  /** The inherited parameters' rate. */
  sourceLr: number;
  /** The new parameters' warmup, as a fraction of the steps. */
  warmupFraction: number;
  /** Where cosine decay ends, as a fraction of the peak. */
  minLrFraction: number;
}

const pyNumber = (x: number): string => (Number.isInteger(x) ? `${x}.0` : `${Number(x.toPrecision(3))}`);

export function trainingSnippet(r: SnippetRates): string[] {
  return [
    'import json',
    'import math',
    '',
    'import torch',
    'from transformers import AutoModelForCausalLM',
    '',
    'MODEL = "path/to/this/model"',
    'model = AutoModelForCausalLM.from_pretrained(MODEL)',
    `listing = json.load(open(f"{MODEL}/${NEW_PARAMETERS_FILE}"))["tensors"]`,
    `PEAK_LR, SOURCE_LR = ${pyNumber(r.peakLr)}, ${pyNumber(r.sourceLr)}  # new: re-warmed to the peak; inherited: the rate the source ended at`,
    'STEPS = 1000',
    `WARMUP = round(STEPS * ${pyNumber(r.warmupFraction)})`,
    '',
    '',
    'def status(name):',
    '    return listing.get(name, {"status": "new"})["status"]',
    '',
    '',
    '# Whole-tensor groups: a partly new tensor trains with the new ones.',
    'params = dict(model.named_parameters())',
    'new = [p for n, p in params.items() if status(n) != "inherited"]',
    'inherited = [p for n, p in params.items() if status(n) == "inherited"]',
    'optimizer = torch.optim.AdamW([{"params": new, "lr": PEAK_LR}, {"params": inherited, "lr": SOURCE_LR}], weight_decay=0.0)',
    '',
    '',
    'def new_lr(step):  # times PEAK_LR: linear warmup, then cosine decay',
    '    if step < WARMUP:',
    '        return (step + 1) / WARMUP',
    '    progress = min(1.0, (step - WARMUP) / max(1, STEPS - WARMUP))',
    `    return ${pyNumber(r.minLrFraction)} + ${pyNumber(1 - r.minLrFraction)} * 0.5 * (1 + math.cos(math.pi * progress))`,
    '',
    '',
    'def inherited_lr(step):  # times SOURCE_LR: held, never above the new parameters\' rate',
    '    return min(1.0, new_lr(step) * PEAK_LR / SOURCE_LR)',
    '',
    '',
    'scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, [new_lr, inherited_lr])',
    '',
    '',
    '# Per element, for partly new tensors: True where an entry is new.',
    'def new_mask(name, p):',
    '    entry = listing.get(name, {"status": "new"})',
    '    if entry["status"] != "partly new":',
    '        return torch.full(p.shape, entry["status"] == "new", dtype=torch.bool, device=p.device)',
    '    mask = torch.zeros(p.shape, dtype=torch.bool, device=p.device)',
    '    for axis, ranges in enumerate(entry["new"]):',
    '        for start, end in ranges:',
    '            mask.narrow(axis, start, end - start).fill_(True)',
    '    return mask',
    '',
    '',
    'masks = {n: new_mask(n, p) for n, p in params.items()}',
    '',
    '',
    'def masked_step(optimizer, step):',
    '    """With one optimizer over every parameter at new_lr: inherited entries move only their own rate\'s share."""',
    '    ratio = inherited_lr(step) * SOURCE_LR / (new_lr(step) * PEAK_LR)',
    '    before = {n: p.detach().clone() for n, p in params.items() if not masks[n].all()}',
    '    optimizer.step()',
    '    with torch.no_grad():',
    '        for n, old in before.items():',
    '            p = params[n]',
    '            p.copy_(torch.where(masks[n], p, old + (p - old) * ratio))',
  ];
}
