// Golden tests against Python PyTorch (Debian's python3-torch): edgegnn's layers
// and model give PyG's outputs and gradients, and the model.pt of a checkpoint
// loads into modules laid out as PyG's. Skipped where /usr/bin/python3 has no torch.
//
// Tensors cross in torch's own formats both ways: C++ writes with
// torch::pickle_save, which Python's torch.load reads, and Python writes with
// torch.save, which torch::pickle_load reads.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <sstream>

#include "nn/gnn_model.h"
#include "nn/sage_conv.h"
#include "runtime/checkpoint.h"
#include "sample/neighbor_sampler.h"
#include "test_support/datasets.h"
#include "train/step.h"
#include "train/training_state.h"

namespace edgegnn {
namespace {

namespace fs = std::filesystem;
using torch::Tensor;
using TensorMap = std::map<std::string, Tensor>;

// Debian's interpreter: python3-torch is installed for it, not for one earlier on PATH.
const std::string kPython = "/usr/bin/python3";

// PyG's SAGEConv (mean aggregation) and reddit.py's SAGE.forward in plain torch
// ops. argv: conv|model inputs.pt outputs.pt. Writes the output and the
// gradients of a fixed loss with respect to x and every parameter.
constexpr const char* kSageReference = R"py(
import sys

import torch
import torch.nn.functional as F


def sage_conv(x, rowptr, col, params, prefix):
    # PyG's propagate on a bipartite block: messages x_j = x[src] are scattered
    # onto their dst row, then lin_l(mean) + lin_r(x_dst), x_dst = x[:num_dst].
    num_dst = rowptr.numel() - 1
    dst = torch.repeat_interleave(torch.arange(num_dst), rowptr.diff())
    src = col.long()
    total = torch.zeros(num_dst, x.size(1)).index_add_(0, dst, x.index_select(0, src))
    count = torch.zeros(num_dst).index_add_(0, dst, torch.ones(dst.numel()))
    mean = total / count.clamp(min=1).unsqueeze(1)
    out = F.linear(mean, params[prefix + 'lin_l.weight'], params[prefix + 'lin_l.bias'])
    return out + F.linear(x[:num_dst], params[prefix + 'lin_r.weight'])


mode, inputs_path, outputs_path = sys.argv[1:]
inputs = torch.load(inputs_path)
x = inputs['x'].requires_grad_()
params = {k[len('param.'):]: v.requires_grad_()
          for k, v in inputs.items() if k.startswith('param.')}
if mode == 'conv':
    out = sage_conv(x, inputs['block0.rowptr'], inputs['block0.col'], params, '')
    loss = (out * inputs['probe']).sum()
else:
    # reddit.py: gather the batch's input rows, one conv per block, ReLU between.
    num_layers = sum(k.endswith('.rowptr') for k in inputs)
    h = x.index_select(0, inputs['input_ids'])
    for l in range(num_layers):
        rowptr, col = inputs[f'block{l}.rowptr'], inputs[f'block{l}.col']
        h = sage_conv(h, rowptr, col, params, f'convs.{l}.')
        if l != num_layers - 1:
            h = F.relu(h)
    out = F.log_softmax(h, dim=-1)
    loss = F.nll_loss(out, inputs['labels'])
loss.backward()
outputs = {'out': out.detach(), 'grad.x': x.grad}
outputs.update({'grad.' + k: v.grad for k, v in params.items()})
torch.save(outputs, outputs_path)
)py";

// PyG's GATConv (self-loops, concatenated or averaged heads) and examples/gat.py's
// forward (ELU between layers; no dropout) on a sampled batch, in plain torch
// ops. argv: heads inputs.pt outputs.pt; hidden layers have `heads` heads,
// the output layer one. Writes what kSageReference writes.
constexpr const char* kGatReference = R"py(
import sys

import torch
import torch.nn.functional as F


def gat_conv(x, rowptr, col, params, prefix, heads, concat):
    # PyG on a bipartite block: x_dst = x[:num_dst], given self-loops removed
    # and one added per dst row; softmax over each dst row's edges, per head.
    num_dst = rowptr.numel() - 1
    dst = torch.repeat_interleave(torch.arange(num_dst), rowptr.diff())
    src = col.long()
    keep = src != dst
    loops = torch.arange(num_dst)
    src, dst = torch.cat([src[keep], loops]), torch.cat([dst[keep], loops])
    h = F.linear(x, params[prefix + 'lin_src.weight']).view(x.size(0), heads, -1)
    score_src = (h * params[prefix + 'att_src']).sum(-1)
    score_dst = (h[:num_dst] * params[prefix + 'att_dst']).sum(-1)
    logit = F.leaky_relu(score_src[src] + score_dst[dst], 0.2)
    index = dst.unsqueeze(1).expand(-1, heads)
    largest = torch.full((num_dst, heads), -float('inf')).scatter_reduce(0, index, logit, 'amax')
    weight = (logit - largest[dst]).exp()
    alpha = weight / torch.zeros(num_dst, heads).index_add_(0, dst, weight)[dst]
    out = torch.zeros(num_dst, heads, h.size(2)).index_add_(0, dst, alpha.unsqueeze(-1) * h[src])
    out = out.reshape(num_dst, -1) if concat else out.mean(1)
    return out + params[prefix + 'bias']


heads, inputs_path, outputs_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
inputs = torch.load(inputs_path)
x = inputs['x'].requires_grad_()
params = {k[len('param.'):]: v.requires_grad_()
          for k, v in inputs.items() if k.startswith('param.')}
num_layers = sum(k.endswith('.rowptr') for k in inputs)
h = x.index_select(0, inputs['input_ids'])
for l in range(num_layers):
    last = l == num_layers - 1
    h = gat_conv(h, inputs[f'block{l}.rowptr'], inputs[f'block{l}.col'], params,
                 f'convs.{l}.', 1 if last else heads, not last)
    if not last:
        h = F.elu(h)
out = F.log_softmax(h, dim=-1)
F.nll_loss(out, inputs['labels']).backward()
outputs = {'out': out.detach(), 'grad.x': x.grad}
outputs.update({'grad.' + k: v.grad for k, v in params.items()})
torch.save(outputs, outputs_path)
)py";

// Loads model.pt with torch.load into modules laid out as PyG's GraphSAGE,
// GCN or GAT (two heads per hidden layer, one averaged at the output), then
// prints each entry as "param <name> <shape, 4x5> <values>".
// argv: sage|gcn|gat model.pt in_features hidden num_classes.
constexpr const char* kLoadCheckpoint = R"py(
import sys

import torch


class SAGEConv(torch.nn.Module):  # PyG: lin_l carries the bias, lin_r has none
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.lin_l = torch.nn.Linear(in_channels, out_channels)
        self.lin_r = torch.nn.Linear(in_channels, out_channels, bias=False)


class GCNConv(torch.nn.Module):  # PyG: lin has no bias, the layer owns one
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.lin = torch.nn.Linear(in_channels, out_channels, bias=False)
        self.bias = torch.nn.Parameter(torch.empty(out_channels))


class GATConv(torch.nn.Module):  # PyG: lin_dst is lin_src, named twice
    def __init__(self, in_channels, out_channels, heads, concat):
        super().__init__()
        self.lin_src = torch.nn.Linear(in_channels, heads * out_channels, bias=False)
        self.lin_dst = self.lin_src
        self.att_src = torch.nn.Parameter(torch.empty(1, heads, out_channels))
        self.att_dst = torch.nn.Parameter(torch.empty(1, heads, out_channels))
        self.bias = torch.nn.Parameter(torch.empty(heads * out_channels if concat else out_channels))


kind, path = sys.argv[1:3]
sizes = [int(s) for s in sys.argv[3:]]
model = torch.nn.Module()
if kind == 'gat':
    ins = [sizes[0]] + [2 * s for s in sizes[1:-1]]
    last = len(ins) - 1
    model.convs = torch.nn.ModuleList(
        GATConv(i, o, 1 if k == last else 2, k != last)
        for k, (i, o) in enumerate(zip(ins, sizes[1:])))
else:
    conv = {'sage': SAGEConv, 'gcn': GCNConv}[kind]
    model.convs = torch.nn.ModuleList(conv(i, o) for i, o in zip(sizes, sizes[1:]))

state_dict = torch.load(path)
assert isinstance(state_dict, dict), f'model.pt holds a {type(state_dict)}, not a dict'
names, pyg_names = sorted(state_dict), sorted(model.state_dict())
assert names == pyg_names, f'names {names}, PyG has {pyg_names}'
model.load_state_dict(state_dict)  # strict: every name and shape
for name, value in state_dict.items():
    assert value.dtype == torch.float32, f'{name} is {value.dtype}'
    shape = 'x'.join(str(n) for n in value.shape)
    print('param', name, shape, ' '.join(repr(v) for v in value.flatten().tolist()))
)py";

void save_tensors(const fs::path& path, const TensorMap& tensors) {
  c10::Dict<std::string, Tensor> dict;
  for (const auto& [name, tensor] : tensors) dict.insert(name, tensor);
  std::vector<char> bytes = torch::pickle_save(dict);
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TensorMap load_tensors(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  TensorMap tensors;
  for (const auto& item : torch::pickle_load(bytes).toGenericDict())
    tensors[item.key().toStringRef()] = item.value().toTensor();
  return tensors;
}

Tensor ids_tensor(const std::vector<int32_t>& ids) {
  return torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()));
}

// Block l's CSR as block<l>.rowptr and block<l>.col (local src rows).
void add_block(TensorMap& inputs, int l, const sample::Block& block) {
  inputs[fmt::format("block{}.rowptr", l)] = torch::tensor(block.rowptr);
  inputs[fmt::format("block{}.col", l)] = torch::tensor(block.col);
}

void add_parameters(TensorMap& inputs, const torch::nn::Module& module) {
  for (const auto& p : module.named_parameters()) inputs["param." + p.key()] = p.value().detach();
}

// 41 nodes: random undirected edges among nodes 0..39, and node 40 isolated so
// that a seed samples no neighbours.
graph::Graph random_graph(uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> node(0, 39);
  graph::EdgeList edges;
  for (int i = 0; i < 100; ++i) {
    edges.src.push_back(node(rng));
    edges.dst.push_back(node(rng));
  }
  auto [rowptr, col] = graph::build_in_csr(/*num_nodes=*/41, edges, {}, "random");
  graph::Graph g;
  g.num_nodes = 41;
  g.rowptr = graph::Buffer(std::move(rowptr));
  g.col = graph::Buffer(std::move(col));
  return g;
}

const std::vector<int32_t> kSeeds = {0, 3, 7, 12, 21, 40};

void expect_close(const std::string& name, const Tensor& actual, const TensorMap& expected) {
  auto it = expected.find(name);
  ASSERT_NE(it, expected.end()) << "Python wrote no '" << name << "'";
  ASSERT_EQ(actual.sizes(), it->second.sizes()) << name;
  EXPECT_TRUE(torch::allclose(actual, it->second, /*rtol=*/1e-5, /*atol=*/1e-5))
      << name << ": largest difference " << (actual - it->second).abs().max().item<float>();
}

// `expected` holds Python's out, grad.x and grad.<name> of every parameter.
void expect_matches_python(const TensorMap& expected, const Tensor& out, const Tensor& x,
                           const torch::nn::Module& module) {
  expect_close("out", out.detach(), expected);
  expect_close("grad.x", x.grad(), expected);
  for (const auto& p : module.named_parameters())
    expect_close("grad." + p.key(), p.value().grad(), expected);
  EXPECT_EQ(expected.size(), 2 + module.named_parameters().size());
}

class PyTorchGolden : public ::testing::Test {
 protected:
  void SetUp() override {
    static const bool has_torch = [] {
      std::string output;
      return test::run_command(kPython + " -c 'import torch'", &output) == 0;
    }();
    if (!has_torch)
      GTEST_SKIP() << kPython << " cannot import torch (scripts/setup installs python3-torch)";
    dir_ = test::scratch_dir("golden");
  }

  // The scratch files stay behind for a look when the test failed.
  void TearDown() override {
    if (!dir_.empty() && !HasFailure()) fs::remove_all(dir_);
  }

  // Writes `script` into the scratch dir and runs it; stdout+stderr go to `output`.
  int run_python(const char* script, const std::string& args, std::string* output) {
    const fs::path path = dir_ / "script.py";
    std::ofstream(path) << script;
    return test::run_command(kPython + " " + path.string() + " " + args, output);
  }

  // A 2-layer `model` (5 features, 3 classes) on a batch sampled from a random
  // graph, as training runs it (the first layer reads the global feature
  // matrix), against `script` run with `mode`: output and every gradient of
  // the NLL loss.
  void expect_model_matches_python(nn::GnnModel& model, uint32_t seed, const char* script,
                                   const std::string& mode) {
    graph::Graph g = random_graph(seed);
    sample::NeighborSampler sampler(g, {/*fanouts=*/{3, 2}, seed, /*num_threads=*/1});
    sample::Batch batch = sampler.sample(kSeeds, /*batch_key=*/0);
    Tensor x = torch::randn({g.num_nodes, 5}).requires_grad_();
    Tensor labels =
        torch::randint(/*high=*/3, {static_cast<int64_t>(kSeeds.size())}, torch::kInt64);
    TensorMap inputs{
        {"x", x.detach()}, {"labels", labels}, {"input_ids", ids_tensor(batch.input_ids())}};
    for (int l = 0; l < 2; ++l) add_block(inputs, l, batch.blocks[l]);
    add_parameters(inputs, *model);
    save_tensors(dir_ / "inputs.pt", inputs);

    Tensor out = model->forward(x, train::batch_layer_graphs(batch, model->normalization(), g));
    torch::nll_loss(out, labels).backward();

    std::string output;
    const std::string files =
        (dir_ / "inputs.pt").string() + " " + (dir_ / "outputs.pt").string();
    ASSERT_EQ(run_python(script, mode + " " + files, &output), 0) << output;
    expect_matches_python(load_tensors(dir_ / "outputs.pt"), out, x, *model);
  }

  fs::path dir_;
};

TEST_F(PyTorchGolden, SAGEConvMatchesPyGOutputAndGradients) {
  graph::Graph g = random_graph(/*seed=*/0);
  sample::NeighborSampler sampler(g, {/*fanouts=*/{4}, /*seed=*/0, /*num_threads=*/1});
  sample::Block block = sampler.sample(kSeeds, /*batch_key=*/0).blocks[0];
  torch::manual_seed(0);
  nn::SAGEConv conv(/*in_features=*/5, /*out_features=*/3);
  Tensor x = torch::randn({block.num_src(), 5}).requires_grad_();
  Tensor probe = torch::randn({block.num_dst(), 3});
  TensorMap inputs{{"x", x.detach()}, {"probe", probe}};
  add_block(inputs, /*l=*/0, block);
  add_parameters(inputs, *conv);
  save_tensors(dir_ / "inputs.pt", inputs);

  nn::LayerGraph lg =
      nn::block_layer_graph(block, /*global_input=*/false, nn::Normalization::kNone, g);
  Tensor out = conv->forward(x, lg);
  (out * probe).sum().backward();

  std::string output;
  const std::string files = (dir_ / "inputs.pt").string() + " " + (dir_ / "outputs.pt").string();
  ASSERT_EQ(run_python(kSageReference, "conv " + files, &output), 0) << output;
  expect_matches_python(load_tensors(dir_ / "outputs.pt"), out, x, *conv);
}

TEST_F(PyTorchGolden, TwoLayerSageModelMatchesRedditPyOutputAndGradients) {
  torch::manual_seed(1);
  nn::GnnModel model(nn::ModelOptions{.kind = nn::ModelKind::kSage,
                                      .in_features = 5,
                                      .hidden = 4,
                                      .num_classes = 3,
                                      .num_layers = 2,
                                      .dropout = 0});
  expect_model_matches_python(model, /*seed=*/1, kSageReference, "model");
}

TEST_F(PyTorchGolden, TwoLayerGatModelMatchesPyGGatOutputAndGradients) {
  torch::manual_seed(2);
  nn::GnnModel model(nn::ModelOptions{.kind = nn::ModelKind::kGat,
                                      .in_features = 5,
                                      .hidden = 3,
                                      .num_classes = 3,
                                      .num_layers = 2,
                                      .dropout = 0,
                                      .heads = 2});
  {
    torch::NoGradGuard no_grad;  // biases start at zero: make them seen
    for (auto& p : model->named_parameters())
      if (p.key().ends_with("bias")) p.value().normal_();
  }
  expect_model_matches_python(model, /*seed=*/2, kGatReference, "2");
}

TEST_F(PyTorchGolden, CheckpointModelLoadsIntoPyGModulesWithSameValues) {
  for (const std::string kind : {"sage", "gcn", "gat"}) {
    SCOPED_TRACE(kind);
    train::TrainOptions options;
    options.model = {.kind = nn::parse_model_kind(kind),
                     .in_features = 5,
                     .hidden = 4,
                     .num_classes = 3,
                     .num_layers = 2,
                     .heads = kind == "gat" ? 2 : 1};
    train::TrainingState state = train::make_training_state(options);
    const fs::path checkpoint = dir_ / kind;
    const auto aliases = state.model->pyg_aliases();
    EXPECT_EQ(aliases.size(), kind == "gat" ? 2u : 0u);
    runtime::save_checkpoint(checkpoint, *state.model, *state.optimizer,
                             /*meta=*/nlohmann::json::object(), aliases);

    std::string output;
    const std::string args = kind + " " + (checkpoint / "model.pt").string() + " 5 4 3";
    ASSERT_EQ(run_python(kLoadCheckpoint, args, &output), 0) << output;
    std::map<std::string, std::string> printed;  // name -> "shape values..."
    std::istringstream lines(output);
    for (std::string line; std::getline(lines, line);) {
      std::istringstream fields(line);
      std::string tag, name;
      if (fields >> tag >> name && tag == "param") std::getline(fields >> std::ws, printed[name]);
    }
    const auto parameters = state.model->named_parameters();
    EXPECT_EQ(printed.size(), parameters.size() + aliases.size()) << output;
    for (const auto& [alias, name] : aliases) EXPECT_EQ(printed[alias], printed[name]) << alias;
    for (const auto& p : parameters) {
      ASSERT_TRUE(printed.count(p.key())) << "Python printed no '" << p.key() << "':\n" << output;
      std::istringstream fields(printed[p.key()]);
      std::string shape;
      fields >> shape;
      EXPECT_EQ(shape, fmt::format("{}", fmt::join(p.value().sizes(), "x"))) << p.key();
      std::vector<double> values{std::istream_iterator<double>(fields),
                                 std::istream_iterator<double>()};
      Tensor loaded = torch::tensor(values).to(torch::kFloat32);
      EXPECT_TRUE(torch::equal(loaded, p.value().detach().flatten())) << p.key() << ": " << loaded;
    }
  }
}

}  // namespace
}  // namespace edgegnn
