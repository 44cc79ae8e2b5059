"""Perceptual distances between a clean and a perturbed batch: L0 in pixels, L2, L∞, PSNR, SSIM.

SSIM is pinned to one definition: scikit-image's ``structural_similarity`` defaults (Wang et al.
2004 with a 7-wide uniform window, ``K1 = 0.01``, ``K2 = 0.03``, sample covariance, the window
half-width cropped from the border before averaging, scipy's ``reflect`` border), averaged over
channels, with ``data_range`` the width of the valid input range. It is computed here, batched,
with ``scipy.ndimage.uniform_filter`` (the tests check it against scikit-image to 1e-10), so
scikit-image is not needed at run time. Images smaller than 7 use the largest odd window that fits.
"""
from __future__ import annotations

import numpy as np


def _spatial_axes(ndim_sample: int, channel_axis: int | None) -> list[int]:
    """Axes of a batch (n, ...) that are spatial, i.e. neither the batch nor the channel axis."""
    return [a + 1 for a in range(ndim_sample) if a != channel_axis]


def l0_pixels(x: np.ndarray, adv: np.ndarray, channel_axis: int | None, tol: float = 0.0) -> np.ndarray:
    """Number of pixel positions (not channels) where any channel changed by more than ``tol``."""
    changed = np.abs(adv.astype(np.float64) - x.astype(np.float64)) > tol
    if channel_axis is not None:
        changed = changed.any(axis=channel_axis + 1)
    return changed.reshape(len(x), -1).sum(axis=1).astype(np.int64)


def changed_pixel_mask(x: np.ndarray, adv: np.ndarray, channel_axis: int | None, tol: float = 0.0) -> np.ndarray:
    """Boolean (n, *spatial) mask of pixel positions that changed."""
    changed = np.abs(adv.astype(np.float64) - x.astype(np.float64)) > tol
    if channel_axis is not None:
        changed = changed.any(axis=channel_axis + 1)
    return changed


def lp_norms(x: np.ndarray, adv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample L2 and L∞ norms of the perturbation."""
    d = (adv.astype(np.float64) - x.astype(np.float64)).reshape(len(x), -1)
    return np.sqrt((d * d).sum(axis=1)), np.abs(d).max(axis=1)


def psnr(x: np.ndarray, adv: np.ndarray, data_range: float) -> np.ndarray:
    """Peak signal-to-noise ratio in dB per sample, ``10·log10(R² / MSE)`` (inf when identical);
    the same formula as scikit-image's ``peak_signal_noise_ratio``."""
    d = (adv.astype(np.float64) - x.astype(np.float64)).reshape(len(x), -1)
    mse = (d * d).mean(axis=1)
    with np.errstate(divide="ignore"):
        return 10 * np.log10(data_range**2 / mse)


def ssim(x: np.ndarray, adv: np.ndarray, data_range: float, channel_axis: int | None,
         win_size: int = 7) -> np.ndarray:
    """Mean structural similarity per sample (see the module docstring for the pinned definition).

    Returns NaN for samples whose spatial size is below 3 along some axis.
    """
    from scipy.ndimage import uniform_filter

    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(adv, dtype=np.float64)
    spatial = _spatial_axes(a.ndim - 1, channel_axis)
    smallest = min(a.shape[ax] for ax in spatial)
    win = min(win_size, smallest if smallest % 2 else smallest - 1)
    if win < 3:
        return np.full(len(a), np.nan)
    size = [win if ax in spatial else 1 for ax in range(a.ndim)]
    # scikit-image filters the whole array with scipy's default 'reflect' mode; axes of size 1
    # (batch, channel) are left untouched by a window of 1
    f = lambda t: uniform_filter(t, size=size)  # noqa: E731
    n_pts = win ** len(spatial)
    cov_norm = n_pts / (n_pts - 1)
    ux, uy = f(a), f(b)
    uxx, uyy, uxy = f(a * a), f(b * b), f(a * b)
    vx = cov_norm * (uxx - ux * ux)
    vy = cov_norm * (uyy - uy * uy)
    vxy = cov_norm * (uxy - ux * uy)
    c1 = (0.01 * data_range) ** 2
    c2 = (0.03 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
    pad = (win - 1) // 2
    crop = tuple(slice(pad, -pad) if ax in spatial else slice(None) for ax in range(a.ndim))
    s = s[crop]
    # mean over space per channel, then over channels (scikit-image's channel_axis behaviour)
    per = s.mean(axis=tuple(spatial))
    return per.reshape(len(a), -1).mean(axis=1)
