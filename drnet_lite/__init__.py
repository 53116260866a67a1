"""drnet_lite: DRNet (Denton & Birodkar, NeurIPS 2017) for learning, running and extending.

Content/pose disentanglement of video with two encoders, a decoder, a scene
discriminator and an LSTM over pose.
"""
__version__ = "0.1.0"
