import os
import threading

import pytest

from mvsic.tasks import cpu_idle_only

pytestmark = pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="Linux scheduling only")


def test_audio_runs_on_idle_cpu_and_the_process_gets_its_policy_back():
    before = os.sched_getscheduler(0)
    seen = {}
    with cpu_idle_only():
        seen["block"] = os.sched_getscheduler(0)
        # FFmpeg's decoder threads are started inside the block: they inherit the policy.
        thread = threading.Thread(target=lambda: seen.update(thread=os.sched_getscheduler(0)))
        thread.start()
        thread.join()
    assert seen == {"block": os.SCHED_IDLE, "thread": os.SCHED_IDLE}
    assert os.sched_getscheduler(0) == before != os.SCHED_IDLE


def test_the_policy_comes_back_when_processing_raises():
    before = os.sched_getscheduler(0)
    with pytest.raises(RuntimeError), cpu_idle_only():
        raise RuntimeError("decoder failed")
    assert os.sched_getscheduler(0) == before
