"""IST-DASLab/gptq's own llama.py quantization and evaluation, run on a local checkpoint and text files.

The reference's llama_sequential / llama_eval are reproduced line for line, with its gptq.py and
quant.py imported unchanged from a checkout (--ref DIR). Three adaptations, each needed to run it
here and none changing the arithmetic:
  * data: get_wikitext2's sampler on our files (random.seed(seed), then random.randint(0, n - seqlen - 1)
    per window), tokenized without special tokens, as `ptq` tokenizes (the reference's tokenizer call
    would prepend BOS for tokenizers that add one, shifting every window by one token);
  * transformers 5: decoder layers take position_embeddings and return a tensor, so the Catcher keeps
    every keyword argument of the first layer and the loops pass them all back;
  * --seqlen instead of the hard-coded model.seqlen = 2048 (the small models' context is 512).
Prints one JSON line: ppl, quantize_seconds, the first window offsets, device, versions.
"""
import argparse, contextlib, json, os, random, sys, time

import torch
import torch.nn as nn


def windows(ids, nsamples, seed, seqlen):
    random.seed(seed)
    out, offsets = [], []
    for _ in range(nsamples):
        i = random.randint(0, ids.shape[1] - seqlen - 1)
        offsets.append(i)
        inp = ids[:, i:i + seqlen]
        tar = inp.clone()
        tar[:, :-1] = -100
        out.append((inp, tar))
    return out, offsets


def call(layer, x, kw):
    out = layer(x, **kw)
    return out[0] if isinstance(out, (tuple, list)) else out


def capture(model, batches, nrows, seqlen, dev):
    layers = model.model.layers
    model.model.embed_tokens = model.model.embed_tokens.to(dev)
    model.model.norm = model.model.norm.to(dev)
    if hasattr(model.model, "rotary_emb"):
        model.model.rotary_emb = model.model.rotary_emb.to(dev)
    layers[0] = layers[0].to(dev)
    dtype = next(iter(model.parameters())).dtype
    inps = torch.zeros((nrows, seqlen, model.config.hidden_size), dtype=dtype, device=dev)
    cache = {"i": 0, "kw": None}

    class Catcher(nn.Module):
        def __init__(self, module):
            super().__init__()
            self.module = module
            self.attention_type = getattr(module, "attention_type", "full_attention")

        def forward(self, inp, **kwargs):
            inps[cache["i"]] = inp
            cache["i"] += 1
            cache["kw"] = {k: v for k, v in kwargs.items() if k not in ("past_key_values", "past_key_value", "use_cache")}
            raise ValueError

    layers[0] = Catcher(layers[0])
    for b in batches:
        try:
            model(b.to(dev))
        except ValueError:
            pass
    layers[0] = layers[0].module
    return inps, cache["kw"]


@torch.no_grad()
def llama_sequential(model, dataloader, dev, args, gptq_mod, quant_mod):
    model.config.use_cache = False
    layers = model.model.layers
    inps, kw = capture(model, [b[0] for b in dataloader], args.nsamples, args.seqlen, dev)
    outs = torch.zeros_like(inps)
    for i in range(len(layers)):
        layer = layers[i].to(dev)
        full = {n: m for n, m in layer.named_modules() if isinstance(m, nn.Linear)}  # modelutils.find_layers
        sequential = [list(full.keys())]
        for names in sequential:
            subset = {n: full[n] for n in names}
            gptq = {}
            for name in subset:
                gptq[name] = gptq_mod.GPTQ(subset[name])
                gptq[name].quantizer = quant_mod.Quantizer()
                gptq[name].quantizer.configure(args.wbits, perchannel=True, sym=args.sym, mse=False)

            def add_batch(name):
                def tmp(_, inp, out):
                    gptq[name].add_batch(inp[0].data, out.data)
                return tmp
            handles = [subset[n].register_forward_hook(add_batch(n)) for n in subset]
            for j in range(args.nsamples):
                outs[j] = call(layer, inps[j].unsqueeze(0), kw)
            for h in handles:
                h.remove()
            for name in subset:
                gptq[name].fasterquant(percdamp=args.percdamp, groupsize=args.groupsize, actorder=False, static_groups=False)
                gptq[name].free()
        for j in range(args.nsamples):
            outs[j] = call(layer, inps[j].unsqueeze(0), kw)
        layers[i] = layer
        inps, outs = outs, inps


@torch.no_grad()
def llama_eval(model, testenc, dev, seqlen):
    nsamples = testenc.numel() // seqlen
    model.config.use_cache = False
    layers = model.model.layers
    inps, kw = capture(model, [testenc[:, i * seqlen:(i + 1) * seqlen] for i in range(nsamples)], nsamples, seqlen, dev)
    outs = torch.zeros_like(inps)
    for i in range(len(layers)):
        layer = layers[i].to(dev)
        for j in range(nsamples):
            outs[j] = call(layer, inps[j].unsqueeze(0), kw)
        inps, outs = outs, inps
    model.model.norm = model.model.norm.to(dev)
    model.lm_head = model.lm_head.to(dev)
    testenc = testenc.to(dev)
    nlls = []
    for i in range(nsamples):
        lm_logits = model.lm_head(model.model.norm(inps[i].unsqueeze(0)))
        shift_logits = lm_logits[:, :-1, :].contiguous()
        shift_labels = testenc[:, (i * seqlen):((i + 1) * seqlen)][:, 1:]
        loss = nn.CrossEntropyLoss()(shift_logits.view(-1, shift_logits.size(-1)), shift_labels.view(-1))
        nlls.append(loss.float() * seqlen)
    return torch.exp(torch.stack(nlls).sum() / (nsamples * seqlen)).item()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--ref", required=True, help="checkout of IST-DASLab/gptq (gptq.py, quant.py)")
    p.add_argument("--calib", required=True)
    p.add_argument("--test", required=True)
    p.add_argument("--nsamples", type=int, default=128)
    p.add_argument("--seqlen", type=int, default=512)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--wbits", type=int, default=3)
    p.add_argument("--groupsize", type=int, default=128)
    p.add_argument("--percdamp", type=float, default=0.01)
    p.add_argument("--sym", action="store_true")
    p.add_argument("--device", default="cuda:0")
    p.add_argument("--dtype", default="auto")
    args = p.parse_args()
    sys.path.insert(0, args.ref)
    import transformers
    if not hasattr(transformers, "Conv1D"):  # gptq.py tests isinstance(layer, transformers.Conv1D)
        from transformers.pytorch_utils import Conv1D
        transformers.Conv1D = Conv1D
    import gptq as gptq_mod
    import quant as quant_mod
    import transformers
    from transformers import AutoTokenizer, LlamaForCausalLM
    for f in ("kaiming_uniform_", "uniform_", "normal_"):
        setattr(torch.nn.init, f, lambda *a, **k: None)
    dtype = "auto" if args.dtype == "auto" else getattr(torch, args.dtype)
    model = LlamaForCausalLM.from_pretrained(args.model, torch_dtype=dtype).eval()
    tok = AutoTokenizer.from_pretrained(args.model)
    enc = lambda f: tok(open(f, encoding="utf-8").read(), return_tensors="pt", add_special_tokens=False).input_ids
    trainenc, testenc = enc(args.calib), enc(args.test)
    loader, offsets = windows(trainenc, args.nsamples, args.seed, args.seqlen)
    dev = torch.device(args.device)
    if dev.type != "cuda":  # fasterquant calls torch.cuda.synchronize() unconditionally (for its timer)
        torch.cuda.synchronize = lambda *a, **k: None
    t0 = time.time()
    cpu0 = os.times()
    if args.wbits < 16:
        with contextlib.redirect_stdout(sys.stderr):  # fasterquant prints its time and error per layer
            llama_sequential(model, loader, dev, args, gptq_mod, quant_mod)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    qsec = time.time() - t0
    cpu1 = os.times()
    ppl = llama_eval(model, testenc, dev, args.seqlen)
    print(json.dumps({"impl": "IST-DASLab/gptq llama.py", "ppl": ppl, "quantize_seconds": qsec,
                      "quantize_cpu_user_s": cpu1.user - cpu0.user, "quantize_cpu_sys_s": cpu1.system - cpu0.system,
                      "wall_seconds": time.time() - t0, "offsets_head": offsets[:8], "train_tokens": trainenc.shape[1],
                      "device": args.device, "dtype": str(next(model.parameters()).dtype), "torch": torch.__version__,
                      "transformers": transformers.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
