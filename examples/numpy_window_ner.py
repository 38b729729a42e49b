"""A window model for named-entity recognition: is the centre word of a window a location?

This is the model of the backpropagation lectures (as in Stanford's CS224n):
each word has a vector, a row of the embedding matrix E (V x d); a window of
five words is represented by x, their five vectors laid end to end; the
window's score is

    s = u @ tanh(W @ x + b)

and a positive score says "the centre word is a location (LOC)". The word
vectors are parameters too: the gradient reaches E through the lookup E[ids],
and since a word appears in many windows its row collects the sum of their
gradients (the generated code does this with `np.add.at`).

The loss is written for the whole batch at once, with matrices: row i of
X = E[ids].reshape(N, 5 * d) is the x of window i, so X @ W.T + b holds
W @ x + b for every window, and the logistic loss log(1 + exp(-y s)) is
averaged over the windows (y = +1 for LOC, -1 otherwise). The script

1. builds the windows of a tiny labelled corpus written below,
2. checks the generated gradient with respect to E, W, b and u against
   central finite differences at a few random coordinates, at the initial
   parameters,
3. trains all four by full-batch gradient descent, printing the loss and the
   accuracy, then tags a few sentences it was not trained on.

    python examples/numpy_window_ner.py               # about a second
    python examples/numpy_window_ner.py --show-code   # also print the generated gradient
    python examples/numpy_window_ner.py --quick       # a few steps only (the tests run this)

Exit status 1: the gradient disagrees with finite differences, or the model
does not learn the training set (accuracy and LOC recall above 90%; with
`--quick`: the loss does not go down).
"""

from __future__ import annotations

import argparse
import inspect
import sys

import numpy as np

from s2s_ad import grad, value_and_grad

# The corpus: a word in capitals is a location (LOC); the model sees every word in lower case.
# A few words are locations in one sentence and not in another ("paris", "jordan"): only the
# context tells them apart, which is what the window is for.
CORPUS = """\
i live in PARIS
she moved to LONDON last year
we flew from BERLIN to ROME
the museum in MADRID is huge
he works near TOKYO
they visited CAIRO in june
my sister lives in LIMA now
the train to VIENNA was late
our office in OSLO is small
we drove from LISBON to MADRID
paris hilton sang a song
anna met paris at the party
john flew to BERLIN on monday
the weather in LONDON is cold
she was born in ROME
he gave a talk in TOKYO
mary and john live in OSLO
the food in LIMA is great
we took a boat to CAIRO
the flight from VIENNA to PARIS was short
john likes the song
mary works at the museum
the party was on monday
anna is a doctor
he took the train last week
she gave anna a book
the doctor lives near the river
they met john in LISBON
we love the food
our team won the game in BERLIN
jordan played well on monday
she flew to JORDAN last week
the river in VIENNA is wide
he was late for the party
anna visited her sister in ROME
john and mary moved to TOKYO
"""

# Sentences not trained on, made of words of the corpus: the model's tags for them are only shown.
NEW_SENTENCES = ["mary moved to LISBON", "the river in CAIRO is cold", "jordan met anna in OSLO", "paris likes the food"]

HALF_WINDOW = 2  # two words on each side of the centre: windows of five
DIM, HIDDEN = 8, 16  # columns of E, hidden units
STEPS, QUICK_STEPS = 400, 20
LEARNING_RATE = 0.5
TARGET = 0.90  # training accuracy and LOC recall to reach
FD_STEP = 1e-6  # h of the central differences (f(x + h) - f(x - h)) / 2h
FD_TOLERANCE = 1e-5  # largest relative error accepted between the generated gradient and finite differences
FD_FLOOR = 1e-4  # smaller derivatives are judged on |difference| / 1e-4: round-off in the differences is ~1e-10


def window_loss(E, W, b, u, ids, y):
    """Mean logistic loss of the scores u @ tanh(W @ x + b) of every window; y is +1 (LOC) or -1."""
    X = E[ids].reshape(ids.shape[0], -1)  # row i: the vectors of window i's words, end to end
    H = np.tanh(X @ W.T + b)  # row i: tanh(W @ x_i + b)
    s = H @ u  # the windows' scores
    return np.mean(np.log(1 + np.exp(-y * s)))


def scores(E, W, b, u, ids):
    """The score of every window (the model without its loss): positive means LOC."""
    X = E[ids].reshape(ids.shape[0], -1)
    return np.tanh(X @ W.T + b) @ u


def windows(sentence, index):
    """(ids, tags): one row of word ids per word of the sentence, the word at the centre; tags 1 for LOC."""
    words = sentence.split()
    padded = ["<s>"] * HALF_WINDOW + [w.lower() for w in words] + ["</s>"] * HALF_WINDOW
    ids = [[index[w] for w in padded[i : i + 2 * HALF_WINDOW + 1]] for i in range(len(words))]
    return ids, [1 if w.isupper() else 0 for w in words]


def build_data(sentences, index):
    """The windows of all the sentences: an (N, 5) array of word ids and an (N,) array of +1/-1 labels."""
    all_ids, all_tags = [], []
    for sentence in sentences:
        ids, tags = windows(sentence, index)
        all_ids += ids
        all_tags += tags
    return np.array(all_ids), np.where(np.array(all_tags) == 1, 1.0, -1.0)


def check_gradient(loss, gradient_of_loss, params, names, data, rng, per_parameter=3) -> bool:
    """Compare the gradient with central finite differences at a few random coordinates; True if they agree."""
    gradients = gradient_of_loss(*params, *data)
    # For one coordinate i of one parameter P: dloss/dP[i] ~ (loss(P[i] + h) - loss(P[i] - h)) / 2h, off by
    # O(h^2) from the truth and by round-off of about 1e-16 * loss / h (~1e-10).
    worst = 0.0
    for k, (name, value, gradient) in enumerate(zip(names, params, gradients)):
        assert gradient.shape == value.shape, (name, gradient.shape, value.shape)
        for flat in rng.choice(value.size, size=min(per_parameter, value.size), replace=False):
            i = np.unravel_index(flat, value.shape)  # the coordinate, as a tuple of indices
            up, down = value.copy(), value.copy()
            up[i] += FD_STEP
            down[i] -= FD_STEP
            loss_up = loss(*params[:k], up, *params[k + 1 :], *data)
            loss_down = loss(*params[:k], down, *params[k + 1 :], *data)
            numeric = (loss_up - loss_down) / (2 * FD_STEP)
            error = abs(gradient[i] - numeric) / max(abs(gradient[i]), abs(numeric), FD_FLOOR)
            worst = max(worst, error)
            where = f"{name}[{', '.join(str(int(j)) for j in i)}]"
            print(f"  {where:10} generated {gradient[i]:+.8e}  finite differences {numeric:+.8e}  rel. error {error:.1e}")
    ok = worst <= FD_TOLERANCE
    print(f"  largest relative error {worst:.1e}: {'ok' if ok else 'MISMATCH'} (tolerance {FD_TOLERANCE:.0e})")
    return ok


def report(params, ids, y):
    """(accuracy, recall of LOC): the fraction of windows tagged right, and of LOC windows found."""
    predicted = np.where(scores(*params, ids) > 0, 1.0, -1.0)
    return np.mean(predicted == y), np.mean(predicted[y > 0] == 1.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"train {QUICK_STEPS} steps only (still checks the gradient)")
    parser.add_argument("--show-code", action="store_true", help="print the generated gradient code at the end")
    options = parser.parse_args(argv)

    sentences = CORPUS.splitlines()
    vocabulary = ["<s>", "</s>"] + sorted({w.lower() for s in sentences for w in s.split()})
    index = {word: i for i, word in enumerate(vocabulary)}
    ids, y = build_data(sentences, index)
    print(
        f"{len(sentences)} sentences, {len(vocabulary)} words, {len(y)} windows, {int(np.sum(y > 0))} of them LOC "
        f"(tagging every word not-LOC scores {np.mean(y < 0):.1%})"
    )

    rng = np.random.default_rng(0)
    fan_in = (2 * HALF_WINDOW + 1) * DIM
    params = [
        0.1 * rng.standard_normal((len(vocabulary), DIM)),  # E: one row per word, small at first
        rng.standard_normal((HIDDEN, fan_in)) / np.sqrt(fan_in),  # W
        np.zeros(HIDDEN),  # b
        rng.standard_normal(HIDDEN) / np.sqrt(HIDDEN),  # u
    ]
    names = ("E", "W", "b", "u")

    print("Generated gradient against finite differences, at the initial parameters:")
    gradient = grad(window_loss, wrt=names)  # generated at its first call, for these shapes
    if not check_gradient(window_loss, gradient, params, names, (ids, y), rng):
        return 1

    steps = QUICK_STEPS if options.quick else STEPS
    print(f"Full-batch gradient descent on E, W, b and u, learning rate {LEARNING_RATE}, {steps} steps:")
    loss_and_gradient = value_and_grad(window_loss, wrt=names)
    losses = []
    for step in range(steps + 1):
        loss, gradients = loss_and_gradient(*params, ids, y)
        losses.append(loss)
        if step % max(1, steps // 5) == 0 or step == steps:
            accuracy, recall = report(params, ids, y)
            print(f"  step {step:4d}: loss {loss:.4f}  accuracy {accuracy:.1%}  LOC recall {recall:.1%}")
        if step < steps:
            params = [p - LEARNING_RATE * g for p, g in zip(params, gradients)]
    accuracy, recall = report(params, ids, y)
    print(f"training set: accuracy {accuracy:.1%}, LOC recall {recall:.1%}")

    print("Sentences not trained on (capitals: the truth; [brackets]: what the model tags LOC):")
    for sentence in NEW_SENTENCES:
        new_ids, _ = windows(sentence, index)
        tagged = scores(*params, np.array(new_ids)) > 0
        print("  " + " ".join(f"[{w}]" if t else w for w, t in zip(sentence.split(), tagged)))

    if options.show_code:
        print("\nThe generated gradient:\n")
        print(inspect.getsource(gradient))
    if not losses[-1] < losses[0]:
        print(f"training failed: the loss went from {losses[0]:.4f} to {losses[-1]:.4f}", file=sys.stderr)
        return 1
    if not options.quick and not (accuracy > TARGET and recall > TARGET):
        print(
            f"training failed: accuracy {accuracy:.1%} and LOC recall {recall:.1%} must both pass {TARGET:.0%}", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
