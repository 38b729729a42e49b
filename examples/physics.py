"""Sensitivities and forces of three textbook physics formulas, by generated gradients.

- Projectile range R(v, theta, g) = v**2 sin(2 theta) / g: its sensitivities,
  and dR/dtheta = 0 at 45 degrees, the angle of longest range.
- The Lennard-Jones potential between two atoms in a plane: the force on each
  atom is minus the gradient; the forces are equal and opposite (Newton's
  third law) and vanish at the potential's minimum r = 2**(1/6) sigma.
- Planck's law of black-body radiance B(wavelength, T): dB/dT from its closed
  form, and dB/d(wavelength) = 0 at Wien's peak wavelength b / T.

Each generated gradient is compared with the closed form a physics textbook
gives.

    python examples/physics.py

exits with status 1 if any of them disagrees.
"""

from __future__ import annotations

import inspect
import math
import sys

from s2s_ad import grad

# Lennard-Jones parameters of argon, in kelvin (epsilon / k_B) and angstrom.
EPSILON = 119.8
SIGMA = 3.405

# CODATA constants, SI units.
H = 6.62607015e-34  # Planck constant
C = 299792458.0  # speed of light
K = 1.380649e-23  # Boltzmann constant
WIEN = 2.897771955e-3  # Wien's displacement constant b, in m K


def projectile_range(v: float, theta: float, g: float) -> float:
    """How far a projectile launched at speed v and angle theta flies on flat ground."""
    return v**2 * math.sin(2 * theta) / g


def lennard_jones(x1: float, y1: float, x2: float, y2: float) -> float:
    """The Lennard-Jones pair potential of two atoms at (x1, y1) and (x2, y2)."""
    r = math.hypot(x2 - x1, y2 - y1)
    s6 = (SIGMA / r) ** 6
    return 4 * EPSILON * (s6**2 - s6)


def planck(wavelength: float, temperature: float) -> float:
    """Spectral radiance of a black body, W / (m**2 sr m)."""
    x = H * C / (wavelength * K * temperature)
    return 2 * H * C**2 / wavelength**5 / math.expm1(x)


# Functions whose generated code is kept as golden files (tests/test_golden.py).
GOLDEN = (projectile_range, lennard_jones, planck)


def close(got: float, expected: float, scale: float = 1.0) -> bool:
    return math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-9 * scale)


class Report:
    """Prints one line per check and counts the failures."""

    def __init__(self) -> None:
        self.failures = 0

    def check(self, what: str, got: float, expected: float, scale: float = 1.0) -> None:
        ok = close(got, expected, scale)
        self.failures += not ok
        print(f"  {what:<58} generated {got:+.9e}   textbook {expected:+.9e}   {'ok' if ok else 'MISMATCH'}")


def projectile(report: Report) -> None:
    print("Projectile range R = v**2 sin(2 theta) / g")
    v, theta, g = 20.0, math.radians(30.0), 9.81
    dv, dtheta, dg = grad(projectile_range)(v, theta, g)
    report.check("dR/dv = 2 v sin(2 theta) / g", dv, 2 * v * math.sin(2 * theta) / g)
    report.check("dR/dtheta = 2 v**2 cos(2 theta) / g", dtheta, 2 * v**2 * math.cos(2 * theta) / g)
    report.check("dR/dg = -v**2 sin(2 theta) / g**2", dg, -(v**2) * math.sin(2 * theta) / g**2)
    at_45 = grad(projectile_range, wrt="theta")(v, math.pi / 4, g)
    report.check("dR/dtheta at 45 degrees (longest range)", at_45, 0.0, scale=v**2 / g)


def atoms(report: Report) -> None:
    print("Lennard-Jones potential V = 4 eps ((sigma/r)**12 - (sigma/r)**6)")
    x1, y1, x2, y2 = 0.3, -0.2, 3.9, 1.1
    dx1, dy1, dx2, dy2 = grad(lennard_jones)(x1, y1, x2, y2)
    r = math.hypot(x2 - x1, y2 - y1)
    dv_dr = 4 * EPSILON * (-12 * SIGMA**12 / r**13 + 6 * SIGMA**6 / r**7)
    report.check("force on atom 1, x: -dV/dr (x1 - x2) / r", -dx1, -dv_dr * (x1 - x2) / r)
    report.check("force on atom 1, y: -dV/dr (y1 - y2) / r", -dy1, -dv_dr * (y1 - y2) / r)
    report.check("Newton's third law, x: F1 + F2", -dx1 - dx2, 0.0, scale=abs(dx1))
    report.check("Newton's third law, y: F1 + F2", -dy1 - dy2, 0.0, scale=abs(dy1))
    r_min = 2 ** (1 / 6) * SIGMA
    at_minimum = grad(lennard_jones, wrt="x2")(0.0, 0.0, r_min, 0.0)
    report.check("force at the minimum r = 2**(1/6) sigma", at_minimum, 0.0, scale=EPSILON / SIGMA)


def black_body(report: Report) -> None:
    print("Planck's law B = 2 h c**2 / wavelength**5 / (exp(h c / (wavelength k T)) - 1)")
    wavelength, temperature = 500e-9, 5772.0
    d_wavelength, d_temperature = grad(planck)(wavelength, temperature)
    b = planck(wavelength, temperature)
    x = H * C / (wavelength * K * temperature)
    factor = x * math.exp(x) / math.expm1(x)
    report.check("dB/dT = B x e**x / (e**x - 1) / T", d_temperature, b * factor / temperature)
    report.check("dB/dwavelength = B (x e**x / (e**x - 1) - 5) / wavelength", d_wavelength,
                 b * (factor - 5) / wavelength)
    peak = WIEN / temperature
    at_peak = grad(planck, wrt="wavelength")(peak, temperature)
    report.check("dB/dwavelength at Wien's peak b / T", at_peak, 0.0, scale=planck(peak, temperature) / peak)


def main() -> int:
    report = Report()
    projectile(report)
    atoms(report)
    black_body(report)
    print()
    print("The generated gradient of the Lennard-Jones potential:")
    print()
    print(inspect.getsource(grad(lennard_jones)))
    if report.failures:
        print(f"{report.failures} check(s) disagree with the textbook", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
