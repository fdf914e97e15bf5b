"""Thin Telegram adapters: parse the update, check who asks, call one service, render."""
