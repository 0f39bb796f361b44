-- Version 7: the run config's `model` becomes one schema per model kind (src-main/models/<kind>/config.ts,
-- a discriminated union on `kind`). Until now it was one flat object holding every variant's fields,
-- filled with defaults; each stored config keeps its kind's fields, with their values, and loses the
-- others (which the flat schema only allowed at their defaults, so nothing a run read is dropped).
-- Fields that came later get what the runs trained with: `posterior` 'gaussian' for a VAE or
-- beta-VAE recorded before flows existed; for a run recorded before the split seed, dequantization
-- and per-dimension free bits, `data.splitSeed` = its `train.seed` (the split followed it),
-- `data.dequantize` false and `train.freeBitsPer` 'layer' (the trainer grouped free bits per layer).
-- A replay or resume then trains as the run did (api/config.ts parseRecordedRunConfig does the
-- same for a bundle's config.json).

UPDATE runs SET config_json = json_remove(config_json,
    '$.model.ladderLatentDims', '$.model.beta', '$.model.capacity', '$.model.alpha', '$.model.gamma',
    '$.model.codebookSize', '$.model.codeDim', '$.model.codePositions', '$.model.commitment',
    '$.model.codebookUpdate', '$.model.emaDecay', '$.model.deadCodeSteps')
 WHERE json_extract(config_json, '$.model.kind') = 'vae';

UPDATE runs SET config_json = json_remove(config_json,
    '$.model.ladderLatentDims', '$.model.alpha', '$.model.gamma',
    '$.model.codebookSize', '$.model.codeDim', '$.model.codePositions', '$.model.commitment',
    '$.model.codebookUpdate', '$.model.emaDecay', '$.model.deadCodeSteps')
 WHERE json_extract(config_json, '$.model.kind') = 'beta-vae';

UPDATE runs SET config_json = json_remove(config_json,
    '$.model.latentDim', '$.model.capacity', '$.model.posterior', '$.model.flowLength',
    '$.model.alpha', '$.model.gamma',
    '$.model.codebookSize', '$.model.codeDim', '$.model.codePositions', '$.model.commitment',
    '$.model.codebookUpdate', '$.model.emaDecay', '$.model.deadCodeSteps')
 WHERE json_extract(config_json, '$.model.kind') = 'ladder';

UPDATE runs SET config_json = json_remove(config_json,
    '$.model.ladderLatentDims', '$.model.capacity', '$.model.posterior', '$.model.flowLength',
    '$.model.codebookSize', '$.model.codeDim', '$.model.codePositions', '$.model.commitment',
    '$.model.codebookUpdate', '$.model.emaDecay', '$.model.deadCodeSteps')
 WHERE json_extract(config_json, '$.model.kind') = 'beta-tcvae';

UPDATE runs SET config_json = json_remove(config_json,
    '$.model.latentDim', '$.model.ladderLatentDims', '$.model.beta', '$.model.capacity',
    '$.model.posterior', '$.model.flowLength', '$.model.alpha', '$.model.gamma')
 WHERE json_extract(config_json, '$.model.kind') = 'vq-vae';

UPDATE runs SET config_json = json_set(config_json, '$.model.posterior', 'gaussian', '$.model.flowLength', 4)
 WHERE json_extract(config_json, '$.model.kind') IN ('vae', 'beta-vae')
   AND json_type(config_json, '$.model.posterior') IS NULL;

UPDATE runs SET config_json = json_set(config_json, '$.train.freeBitsPer', 'layer')
 WHERE json_type(config_json, '$.train.freeBitsPer') IS NULL;

UPDATE runs SET config_json = json_set(config_json, '$.data.splitSeed', json_extract(config_json, '$.train.seed'))
 WHERE json_type(config_json, '$.data.splitSeed') IS NULL
   AND json_type(config_json, '$.train.seed') = 'integer';

UPDATE runs SET config_json = json_set(config_json, '$.data.dequantize', json('false'))
 WHERE json_type(config_json, '$.data.dequantize') IS NULL;
