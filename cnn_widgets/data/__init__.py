"""Every data policy in one place: the MNIST test split shipped in the package and the
full sets loaded from a file or downloaded (:mod:`.mnist`), the images a session's
views draw on (:mod:`.provider`), and what a training run trains on (:mod:`.training`)."""

from .mnist import MNIST_SOURCE, load_fashion_mnist, load_mnist, mnist_test_split
from .provider import DataProvider, DataSet
from .training import TrainingData, training_data

__all__ = ["DataProvider", "DataSet", "MNIST_SOURCE", "TrainingData", "load_fashion_mnist", "load_mnist",
           "mnist_test_split", "training_data"]
