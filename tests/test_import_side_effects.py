"""Importing the package changes nothing global in the user's process."""

import subprocess
import sys


def test_importing_timemae_hf_leaves_matplotlib_alone():
    """No backend is chosen and pyplot is not imported: a notebook's or GUI's matplotlib setup stays the user's."""
    code = (
        "import sys, matplotlib\n"
        "matplotlib.rcParams['backend'] = 'svg'\n"
        "import timemae_hf, timemae_hf.training, timemae_hf.estimator\n"
        "from timemae_hf.training.plotting import plot_training_curves\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'\n"
        "assert matplotlib.get_backend() == 'svg', matplotlib.get_backend()\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
