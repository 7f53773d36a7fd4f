(module
  ;; The summaries' moments kernel (summarize.ts), WebAssembly SIMD: min, max, Σv, Σv² and the
  ;; zero count of n float32 values at $p — or of values − baseline at $q when $q ≠ 0 (f32x4.sub
  ;; rounds each difference to float32 once, as a stored ΔW would be) — written as five f64 at
  ;; offsets 0–39. Four lanes: min/max in f32, Σ and Σv² in f64 (each lane pair promoted), zeros
  ;; as an i32 mask count. NaN propagates through min/max and the sums; the caller then takes its
  ;; careful pass, as it does for ±Inf.
  ;; Compiled to momentsWasm.ts (see there) with wabt's wat2wasm.
  (memory (export "memory") 1)
  (func $moments (export "moments") (param $p i32) (param $q i32) (param $n i32)
    (local $end i32) (local $v v128)
    (local $mn v128) (local $mx v128) (local $s0 v128) (local $s1 v128) (local $q0 v128) (local $q1 v128) (local $z v128)
    (local $lo v128) (local $hi v128) (local $i i32) (local $f f32) (local $d f64)
    (local $smin f32) (local $smax f32) (local $ssum f64) (local $ssq f64) (local $sz i32)
    (local.set $mn (f32x4.splat (f32.const inf)))
    (local.set $mx (f32x4.splat (f32.const -inf)))
    (local.set $end (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $v (v128.load (local.get $p)))
        (if (local.get $q) (then
          (local.set $v (f32x4.sub (local.get $v) (v128.load (local.get $q))))
          (local.set $q (i32.add (local.get $q) (i32.const 16)))))
        (local.set $mn (f32x4.min (local.get $mn) (local.get $v)))
        (local.set $mx (f32x4.max (local.get $mx) (local.get $v)))
        (local.set $z (i32x4.sub (local.get $z) (f32x4.eq (local.get $v) (v128.const f32x4 0 0 0 0))))
        (local.set $lo (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $hi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
        (local.set $s0 (f64x2.add (local.get $s0) (local.get $lo)))
        (local.set $s1 (f64x2.add (local.get $s1) (local.get $hi)))
        (local.set $q0 (f64x2.add (local.get $q0) (f64x2.mul (local.get $lo) (local.get $lo))))
        (local.set $q1 (f64x2.add (local.get $q1) (f64x2.mul (local.get $hi) (local.get $hi))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $loop)))
    ;; lanes → scalars
    (local.set $smin (f32.min (f32.min (f32x4.extract_lane 0 (local.get $mn)) (f32x4.extract_lane 1 (local.get $mn))) (f32.min (f32x4.extract_lane 2 (local.get $mn)) (f32x4.extract_lane 3 (local.get $mn)))))
    (local.set $smax (f32.max (f32.max (f32x4.extract_lane 0 (local.get $mx)) (f32x4.extract_lane 1 (local.get $mx))) (f32.max (f32x4.extract_lane 2 (local.get $mx)) (f32x4.extract_lane 3 (local.get $mx)))))
    (local.set $s0 (f64x2.add (local.get $s0) (local.get $s1)))
    (local.set $ssum (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0))))
    (local.set $q0 (f64x2.add (local.get $q0) (local.get $q1)))
    (local.set $ssq (f64.add (f64x2.extract_lane 0 (local.get $q0)) (f64x2.extract_lane 1 (local.get $q0))))
    (local.set $sz (i32.add (i32.add (i32x4.extract_lane 0 (local.get $z)) (i32x4.extract_lane 1 (local.get $z))) (i32.add (i32x4.extract_lane 2 (local.get $z)) (i32x4.extract_lane 3 (local.get $z)))))
    ;; the last n mod 4 values
    (local.set $i (i32.and (local.get $n) (i32.const 3)))
    (block $tdone
      (loop $tail
        (br_if $tdone (i32.eqz (local.get $i)))
        (local.set $f (f32.load (local.get $p)))
        (if (local.get $q) (then
          (local.set $f (f32.sub (local.get $f) (f32.load (local.get $q))))
          (local.set $q (i32.add (local.get $q) (i32.const 4)))))
        (local.set $smin (f32.min (local.get $smin) (local.get $f)))
        (local.set $smax (f32.max (local.get $smax) (local.get $f)))
        (local.set $d (f64.promote_f32 (local.get $f)))
        (local.set $ssum (f64.add (local.get $ssum) (local.get $d)))
        (local.set $ssq (f64.add (local.get $ssq) (f64.mul (local.get $d) (local.get $d))))
        (local.set $sz (i32.add (local.get $sz) (f32.eq (local.get $f) (f32.const 0))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br $tail)))
    (f64.store (i32.const 0) (f64.promote_f32 (local.get $smin)))
    (f64.store (i32.const 8) (f64.promote_f32 (local.get $smax)))
    (f64.store (i32.const 16) (local.get $ssum))
    (f64.store (i32.const 24) (local.get $ssq))
    (f64.store (i32.const 32) (f64.convert_i32_u (local.get $sz))))
  ;; The histogram's binning over the same values (already in memory from $moments): one value
  ;; from each run of $stride at a pseudo-random place within it (an LCG's high bits scaled to
  ;; [0, stride), as summarize.ts's JS loops do; stride 1 takes every value), binned as
  ;; ((v − min) · scale) in f64, truncated, clamped to 63 — the JS arithmetic exactly — into 64 i32
  ;; counts at $counts (zeroed by the caller). Values outside [min, max] (NaN, ±Inf) are skipped.
  (func $bin (export "bin") (param $p i32) (param $q i32) (param $n i32) (param $stride i32)
    (param $min f64) (param $max f64) (param $scale f64) (param $counts i32)
    (local $start i32) (local $at i32) (local $jitter i32) (local $v f64) (local $b i32) (local $end i32)
    (local.set $jitter (i32.const 0x9e3779b9))
    (local.set $end (i32.sub (local.get $n) (i32.const 1)))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $start) (local.get $n)))
        (local.set $at (local.get $start))
        (if (i32.gt_u (local.get $stride) (i32.const 1)) (then
          (local.set $jitter (i32.add (i32.mul (local.get $jitter) (i32.const 1664525)) (i32.const 1013904223)))
          (local.set $at (i32.add (local.get $start)
            (i32.shr_u (i32.mul (i32.shr_u (local.get $jitter) (i32.const 16)) (local.get $stride)) (i32.const 16))))
          (if (i32.gt_u (local.get $at) (local.get $end)) (then (local.set $at (local.get $end))))))
        (local.set $at (i32.shl (local.get $at) (i32.const 2)))
        (if (local.get $q)
          (then (local.set $v (f64.promote_f32 (f32.sub (f32.load (i32.add (local.get $p) (local.get $at))) (f32.load (i32.add (local.get $q) (local.get $at)))))))
          (else (local.set $v (f64.promote_f32 (f32.load (i32.add (local.get $p) (local.get $at)))))))
        (if (i32.and (f64.ge (local.get $v) (local.get $min)) (f64.le (local.get $v) (local.get $max))) (then
          (local.set $b (i32.trunc_f64_s (f64.mul (f64.sub (local.get $v) (local.get $min)) (local.get $scale))))
          (if (i32.gt_s (local.get $b) (i32.const 63)) (then (local.set $b (i32.const 63))))
          (local.set $b (i32.add (local.get $counts) (i32.shl (local.get $b) (i32.const 2))))
          (i32.store (local.get $b) (i32.add (i32.load (local.get $b)) (i32.const 1)))))
        (local.set $start (i32.add (local.get $start) (local.get $stride)))
        (br $loop))))
)
