//! One integration-test binary (one link on a 2-core CI); each file below is one subject.

// The tutorial's running example, every number worked out by hand.
mod hand_worked;
// Backpropagation against central differences, over every activation, output and cost.
mod gradients;
// Networks that learn: XOR and MNIST.
mod learning;
