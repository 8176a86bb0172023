"""A PPO policy that shares one small network across identical items (V2G-v0's chargers).

A flat MLP from 475 observations to 300 actions has to learn the same charger 100 times; here every item
(charger) is read and acted on by the same weights, beside an embedding of the global features (time,
prices), so what one charger learns every charger knows, and the policy is the same for any number of
items. The value function pools the items' embeddings (mean) with the global one.

Layout it expects (``V2GEnv``'s): the observation starts with ``item_blocks`` blocks of one value per
item (presence, SoC, hours left, energy needed), the rest is global; the action is ``n_items`` groups of
``action_per_item`` values, item-major. ``n_items`` is the action size over ``action_per_item``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.policies import ActorCriticPolicy
from torch import nn


class PerItemExtractor(nn.Module):
    """Per-item latents for the actor (flattened), pooled ones with the global embedding for the critic."""

    def __init__(self, obs_dim: int, n_items: int, item_blocks: int, hidden: int, latent: int) -> None:
        super().__init__()
        self.n_items, self.item_blocks = n_items, item_blocks
        n_global = obs_dim - n_items * item_blocks
        if n_global < 0:
            raise ValueError(f"observation of {obs_dim} values cannot hold {item_blocks} blocks of {n_items} items")
        self.global_net = nn.Sequential(nn.Linear(max(n_global, 1), hidden), nn.Tanh())
        self.item_net = nn.Sequential(nn.Linear(item_blocks + hidden, hidden), nn.Tanh(),
                                      nn.Linear(hidden, latent), nn.Tanh())
        self.value_body = nn.Sequential(nn.Linear(latent + hidden, hidden), nn.Tanh())
        self.latent_dim_pi = n_items * latent
        self.latent_dim_vf = hidden
        self._n_global = n_global

    def _items(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b = obs.shape[0]
        cut = self.n_items * self.item_blocks
        items = obs[:, :cut].reshape(b, self.item_blocks, self.n_items).transpose(1, 2)  # (B, N, F)
        glob = obs[:, cut:] if self._n_global > 0 else obs.new_zeros(b, 1)
        g = self.global_net(glob)
        h = self.item_net(torch.cat([items, g.unsqueeze(1).expand(b, self.n_items, g.shape[1])], dim=2))
        return h, g

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h, g = self._items(obs)
        return h.flatten(1), self.value_body(torch.cat([h.mean(dim=1), g], dim=1))

    def forward_actor(self, obs: torch.Tensor) -> torch.Tensor:
        return self._items(obs)[0].flatten(1)

    def forward_critic(self, obs: torch.Tensor) -> torch.Tensor:
        h, g = self._items(obs)
        return self.value_body(torch.cat([h.mean(dim=1), g], dim=1))


class PerItemHead(nn.Module):
    """The same linear map from each item's latent to its ``action_per_item`` action means."""

    def __init__(self, n_items: int, latent: int, action_per_item: int) -> None:
        super().__init__()
        self.n_items, self.latent = n_items, latent
        self.linear = nn.Linear(latent, action_per_item)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x.reshape(x.shape[0], self.n_items, self.latent)).flatten(1)


class PerItemPolicy(ActorCriticPolicy):
    """``ActorCriticPolicy`` with :class:`PerItemExtractor` and :class:`PerItemHead` (Gaussian actions, one
    log-std per action dimension). Options: ``item_blocks`` (4), ``action_per_item`` (3), ``hidden`` (64),
    ``latent`` (32)."""

    def __init__(self, observation_space: spaces.Box, action_space: spaces.Box, lr_schedule: Any,
                 item_blocks: int = 4, action_per_item: int = 3, hidden: int = 64, latent: int = 32,
                 **kwargs: Any) -> None:
        n_act = int(np.prod(action_space.shape))
        if n_act % action_per_item:
            raise ValueError(f"the action's {n_act} values are not groups of action_per_item={action_per_item}")
        self.n_items, self.item_blocks, self.action_per_item = n_act // action_per_item, item_blocks, action_per_item
        self.hidden, self.latent = hidden, latent
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)

    def _build_mlp_extractor(self) -> None:
        self.mlp_extractor = PerItemExtractor(self.features_dim, self.n_items, self.item_blocks, self.hidden,
                                              self.latent)

    def _build(self, lr_schedule: Any) -> None:
        super()._build(lr_schedule)
        self.action_net = PerItemHead(self.n_items, self.latent, self.action_per_item)
        nn.init.orthogonal_(self.action_net.linear.weight, gain=0.01)
        nn.init.zeros_(self.action_net.linear.bias)
        self.optimizer = self.optimizer_class(self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(item_blocks=self.item_blocks, action_per_item=self.action_per_item, hidden=self.hidden,
                    latent=self.latent)
        return data
