from . import safe_eval_cache
