# SPDX-License-Identifier: BSD-2-Clause
"""daedalus-v4l2-bench's parts: clips, measurements, report."""
