"""Run under ``mpiexec -n 2``: rank 1 raises while rank 0 waits in a collective; the job must end."""
import tinygrad_dnn as td
import tinygrad_dnn.distributed as dist

dist.init_process_group("mpi")
if dist.get_rank() == 1:
    raise ValueError("deliberate failure on rank 1")
dist.all_reduce(td.ones(3))  # rank 0 would wait here forever without the abort
print("rank 0 finished: the abort did not happen")
