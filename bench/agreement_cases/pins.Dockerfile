FROM centos:7
RUN yum install -y python3-devel && yum clean all
RUN python -m pip install --upgrade pip setuptools wheel
ENV PIP_NO_CACHE_DIR=0
RUN pip install -r requirements.txt
RUN useradd -u 70000 app
COPY a b .
USER app
CMD ["python3", "app.py"]
